-- Argo CD health of a MachineOSConfig (On-Cluster Layering). ocl-guard's audit re-runs the admission rules after
-- admission (a push secret deleted or rotated today breaks the next build) and its findings come first; otherwise
-- the MCO's status says whether the newest build has become the pool's image.
-- Uses only the Lua base library: Argo CD runs argocd-cm scripts without the standard libraries.
local hs = {}

local annotations = {}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil then
  annotations = obj.metadata.annotations
end
local diagnosis = annotations["ocl-guard.io/diagnosis"]
local message = annotations["ocl-guard.io/message"]
if diagnosis ~= nil and diagnosis ~= "" then
  hs.status = "Degraded"
  if message ~= nil and message ~= "" then
    hs.message = message
  else
    hs.message = "ocl-guard: failing rules " .. diagnosis
  end
  return hs
end

local status = obj.status
if status == nil then
  status = {}
end
-- The MCO records the build it started in this annotation at once, and status.machineOSBuild only when a build
-- succeeded: while they differ, a build is running or has failed (the MachineOSBuild's own health says which).
local started = annotations["machineconfiguration.openshift.io/current-machine-os-build"]
local done = nil
if status.machineOSBuild ~= nil then
  done = status.machineOSBuild.name
end
if started ~= nil and started ~= "" and started ~= done then
  hs.status = "Progressing"
  hs.message = "MachineOSBuild " .. started .. " has not succeeded yet"
  return hs
end

if status.currentImagePullSpec == nil or status.currentImagePullSpec == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the first image build"
  return hs
end

hs.status = "Healthy"
hs.message = "Image " .. status.currentImagePullSpec
return hs
