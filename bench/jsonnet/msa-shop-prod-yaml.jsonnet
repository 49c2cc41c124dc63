// A YAML stream of every object, written by jsonnet itself (bench/run, with -S).
local b = import 'msa-shop.libsonnet';
std.manifestYamlStream(b.objects)
