// Package gather reads from the cluster the snapshots that the diagnose/ rules judge: a MachineOSConfig with the
// admission rules' verdict (GatherConfig), a pool with its nodes (GatherPool) and a build with its Job, pods,
// Events and log (GatherBuild). The checker's controllers and `ocl-guard status` both gather through it, as peers,
// so that status says what the checker writes: the same current build (mco.CurrentBuildName), the same pods (the
// log is read from the pod the rules judge, mco.NewestPod), the same rollout memory.
//
// It reads through a controller-runtime client.Reader: the checker's cache, or a plain client for a one-shot run.
// It writes nothing.
package gather
