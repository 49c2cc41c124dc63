#!/usr/bin/env python3
"""Prints a stack of N services (bench/run: scale), built from the msa-shop stack:
N copies of its services, renamed svc-00001... (the first keeps the name the ingress
points at), each with its env wiring, database and broker use, so the objects per service
are those of msa-shop. Secrets get values, so the stack renders without an environment.

    bench/gen-stack.py N > stack.json
"""
import copy
import json
import pathlib
import sys

n = int(sys.argv[1])
root = pathlib.Path(__file__).resolve().parent.parent
stack = json.loads((root / "migrations/seed/msa-shop/stack.json").read_text())
prod = json.loads((root / "migrations/seed/msa-shop/prod.json").read_text())
templates = list(stack["services"].items())
services = {}
for i in range(n):
    name, svc = templates[i % len(templates)]
    svc = copy.deepcopy(svc)
    new = stack["ingress"]["service"] if i == 0 else "svc-%05d" % i
    if i != 0 and "mysql" in svc.get("uses", {}):
        svc["uses"]["mysql"] = {"database": "db%05d" % i, "user": "user%05d" % i}
    services[new] = svc
stack["services"] = services
stack["secrets"] = prod["secrets"]
json.dump(stack, sys.stdout, indent=1)
