// Package mustgather reads a must-gather (`oc adm must-gather`) or an `oc adm inspect` directory as the cluster it
// was gathered from, so that `ocl-guard status --from DIR` runs the live gatherers (gather/), rules and rendering
// unchanged: Load decodes the objects status reads into a read-only client.Reader (Dump), Dump.TailLog reads build
// logs from the files (a gather.LogReader) and RuleSource answers the admission rules (a validators.PartialSource).
//
// What it reads, in the layout of openshift/oc pkg/cli/admin/inspect (resource.go dirPathForInfo and
// filenameForInfo, namespace.go gatherNamespaceData, pod.go gatherPodData and gatherContainerLogs), under DIR or
// under each of its subdirectories that holds one (`oc adm must-gather` writes one per image):
//
//	cluster-scoped-resources/<group>/<resource>/<name>.yaml   one object: nodes (metadata only), MachineOSConfigs,
//	cluster-scoped-resources/<group>/<resource>.yaml          MachineOSBuilds, pools... (or the list of them)
//	namespaces/<ns>/<group>/<resource>.yaml                   the list of a namespace's pods, Jobs, Deployments,
//	                                                          Events, Secrets, ConfigMaps ("core" for group "")
//	namespaces/<ns>/pods/<pod>/<pod>.yaml                     one pod
//	namespaces/<ns>/pods/<pod>/<container>/<container>/logs/current.log
//	                                                          its container's log, each line after a timestamp
//
// openshift/must-gather's collection-scripts/gather inspects nodes, ClusterOperators and the namespaces of the
// operators (among them openshift-machine-config-operator); collection-scripts/gather_ppc inspects
// MachineConfigPools, MachineConfigs, MachineOSConfigs and MachineOSBuilds (since openshift/must-gather PR #463).
//
// What a must-gather cannot prove: Secrets are kept without their data (oc's inspect/secret.go elideSecret replaces
// each value by its length), so the rules that judge a Secret's content are reported as "not judged from a
// must-gather" (findings.Skip), never passed or failed; no registry is probed; and the dump is a moment: its clock is
// the time the gather ended (the timestamp file oc adm inspect writes), not now. A kind or a namespace the dump does
// not hold is unknown, not absent: the reader answers a NoKindMatch error for it, as a cluster that does not serve a
// kind would, which the gatherers read as "unknown".
//
// Dumps come from customers, so everything is read as hostile: files are opened through an os.Root (no symlink
// leads out of DIR, and a FIFO or device is never opened), each YAML file is read up to Options.MaxFileBytes and the
// dump up to Options.MaxTotalBytes, a list as oc writes it is parsed item by item and any other document whole only
// up to 8 MiB, YAML aliases and nesting are bounded by go.yaml.in/yaml/v3 (excessive aliasing, a depth of 10,000),
// logs are read from their end only (Dump.TailLog seeks), and a file that cannot be read is one of Dump.Problems,
// naming it ("path:line: ..."), while the rest is read on.
package mustgather
