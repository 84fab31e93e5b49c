-- Argo CD health of a MachineOSConfig (On-Cluster Layering). ocl-guard's checker re-runs the admission rules after
-- admission (a push secret deleted or rotated today breaks the next build) and says why the MCO builds nothing; its
-- diagnosis comes first, and its severity (never its reason) decides: Error is Degraded; Warning (the MCO has not
-- acted on a change within its limit, or warn-level rules fail) is Progressing, since the config still waits on the
-- MCO or works with a warning; Info (the pool is paused) is Suspended. Otherwise the MCO's status says whether the
-- newest build has become the pool's image.
-- Uses only the Lua base library: Argo CD runs argocd-cm scripts without the standard libraries.
local hs = {}

local annotations = {}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil then
  annotations = obj.metadata.annotations
end
local diagnosis = annotations["ocl-guard.io/diagnosis"]
local severity = annotations["ocl-guard.io/severity"]
local message = annotations["ocl-guard.io/message"]
local diagnosed = diagnosis ~= nil and diagnosis ~= ""
if diagnosed and (message == nil or message == "") then
  message = "ocl-guard: " .. diagnosis
end
-- A diagnosis without a known severity (a checker older than the annotation) counts as an Error.
if diagnosed then
  hs.status = "Degraded"
  if severity == "Warning" then
    hs.status = "Progressing"
  elseif severity == "Info" then
    hs.status = "Suspended"
  end
  hs.message = message
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
