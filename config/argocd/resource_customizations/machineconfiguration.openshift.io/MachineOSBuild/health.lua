-- Argo CD health of a MachineOSBuild (On-Cluster Layering). ocl-guard's diagnosis, when present, names the cause
-- and the fix, and its severity (never its reason) decides: Error and Warning (a build stuck, pending too long, or
-- failing while its Job retries: none ends well without someone looking) are Degraded, Info (interrupted by the
-- MCO, a new build follows) is Suspended. Otherwise the MCO's conditions (Prepared, Building, Failed, Interrupted,
-- Succeeded) decide.
-- Uses only the Lua base library: Argo CD runs argocd-cm scripts without the standard libraries.
local hs = {}

local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t and c.status == "True" then
      return c
    end
  end
  return nil
end

local function text(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

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

local succeeded = condition("Succeeded")
if succeeded ~= nil then
  hs.status = "Healthy"
  hs.message = text(succeeded, "Build Ready")
  if obj.status.digestedImagePushSpec ~= nil and obj.status.digestedImagePushSpec ~= "" then
    hs.message = hs.message .. ": " .. obj.status.digestedImagePushSpec
  end
  return hs
end

-- A diagnosis without a known severity (a checker older than the annotation) counts as an Error.
if diagnosed then
  hs.status = "Degraded"
  if severity == "Info" then
    hs.status = "Suspended"
  end
  hs.message = message
  return hs
end

local failed = condition("Failed")
if failed ~= nil then
  hs.status = "Degraded"
  hs.message = text(failed, "Build Failed")
  return hs
end

local interrupted = condition("Interrupted")
if interrupted ~= nil then
  hs.status = "Degraded"
  hs.message = text(interrupted, "Build Interrupted")
  return hs
end

local building = condition("Building")
if building ~= nil then
  hs.status = "Progressing"
  hs.message = text(building, "Image Build In Progress")
  return hs
end

local prepared = condition("Prepared")
if prepared ~= nil then
  hs.status = "Progressing"
  hs.message = text(prepared, "Build Prepared and Pending")
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the Machine Config Operator to start the build"
return hs
