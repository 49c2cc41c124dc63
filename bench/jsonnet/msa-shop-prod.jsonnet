// JSON: a v1 List of every object (bench/run).
local b = import 'msa-shop.libsonnet';
{ apiVersion: 'v1', kind: 'List', items: b.objects }
