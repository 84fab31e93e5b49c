// Package registry probes a container registry the way an OCL build will use it: is the registry API reachable,
// are the push secret's credentials accepted, and do they grant push on the repository.
//
// # What each check proves
//
// Reachable: an unauthenticated GET /v2/ over HTTPS (plain HTTP only for Options.InsecureHosts) answered with 200
// or 401. That proves the registry API answers from where this process runs, with a certificate this process
// trusts. It does not prove the build pod can reach it: the build runs on a node, possibly through a proxy, and
// trusts the cluster's CAs rather than Options.RootCAs.
//
// Credentials, Basic-auth registries: an authenticated GET /v2/ returned 200. That proves the registry accepts the
// user name and password; a 401 proves it refuses them (Result.CredentialsRefused). It proves nothing about push:
// Basic auth carries no scope, so without the write probe the push verdict is Unknown.
//
// Credentials, token-auth (Bearer) registries: the token service issued a token for scope
// "repository:<repo>:push,pull" and the registry accepted that token on /v2/. A 401/403 from the token service
// proves the credentials are refused. If the token is a JWT with an "access" claim (distribution, Harbor, Quay,
// GitLab), the claim is the token service's statement of what the token may do: push listed for the repository
// gives Push OK, pull only (or nothing) gives Push Failed. The signature is not checked, which is harmless: a forged
// claim could only mislead whoever forged it. An opaque token proves only that the credentials were accepted, so
// Push is Unknown. A grant is issued at one instant: it does not prove that quotas, immutable tags, storage or a
// registry policy beyond the token will let the push complete.
//
// Write probe (Options.WriteProbe, off by default): POST /v2/<repo>/blobs/uploads/ starts a blob upload and a DELETE
// of the returned location cancels it, the check go-containerregistry's remote.CheckPushPermission makes. When it is
// on, its answer decides the push verdict for every auth scheme, including open registries. 202 proves the registry
// lets these credentials start writing to the repository; 401/403 proves it does not. It does not prove a whole
// image can be stored (quota, size limits, tag immutability). It is opt-in because it writes: the upload session
// exists on the registry until the DELETE (or the registry's upload purging) removes it, the registry may log or
// audit it, and registries that create repositories on first push may create one. ocl-guard's webhook declares
// sideEffects: None and is called for dry-run requests, so by default it must not change anything outside the
// cluster.
//
// Verdicts: Push is Skipped when the registry is not reachable or the push secret holds no credentials for the host
// (rule secret-registry-auth reports that); PushUnverifiedByDesign tells the routine Unknown (nothing more can be
// known without the write probe) from an Unknown caused by a failure.
//
// # Cache
//
// Results are cached per (registry host, repository, credential version): SuccessTTL for results without failures,
// FailureTTL for failures, half of FailureTTL for Unknowns caused by timeouts or misbehaving servers. Concurrent
// probes of one key share one probe. Metrics (when Options.Registerer is set): ocl_guard_registry_probes_total and
// ocl_guard_registry_probe_duration_seconds by reachable and push status, ocl_guard_registry_probe_cache_hits_total.
//
// # Safety
//
// Every probe runs within Options.Budget. Connections go through a dialer that resolves the host itself, checks each
// address it is about to dial (never the cloud metadata, link-local, unspecified or multicast addresses; loopback
// and private ranges only when allowed) and dials that checked address, so neither DNS rebinding nor a redirect can
// reach a refused address. Requests use their own http.Transport, without proxies or any ambient credential, so a
// Kubernetes service-account token is never sent. Response bodies are read up to 1 MiB; redirects stop after 3.
// Result details name only the host, the repository, an HTTP status and an error class, never a credential.
package registry
