-- Argo CD health of a MachineConfigPool, layered (On-Cluster Layering) or not. ocl-guard's rollout diagnosis, when
-- present, names the cause and the fix, and its severity (never its reason) decides: Error and Warning (a rollout
-- that has not started, stalled, or a node stuck rebooting, past its limit: the MCO itself would show Updating for
-- ever) are Degraded; Info (the pool is paused) is Suspended, as is spec.paused, unless a *Degraded condition of the
-- MCO's says more. Otherwise the MCO's conditions and machine counts decide.
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
local paused = obj.spec ~= nil and obj.spec.paused == true

-- Info is never Degraded: it is Suspended, below. A diagnosis without a known severity (a checker older than the
-- annotation) counts as an Error.
if diagnosed and severity ~= "Info" then
  hs.status = "Degraded"
  hs.message = message
  return hs
end

-- The specific degradations first: the aggregate Degraded condition repeats one of them.
for _, t in ipairs({"NodeDegraded", "RenderDegraded", "ImageBuildDegraded", "PinnedImageSetsDegraded", "PoolSynchronizerDegraded", "Degraded"}) do
  local c = condition(t)
  if c ~= nil then
    hs.status = "Degraded"
    hs.message = text(c, t)
    return hs
  end
end

local status = obj.status
if status == nil then
  status = {}
end
local counts = ""
if status.machineCount ~= nil then
  counts = tostring(status.updatedMachineCount or 0) .. " of " .. tostring(status.machineCount) .. " machines updated"
end

if paused or diagnosed then
  hs.status = "Suspended"
  if diagnosed then
    hs.message = message
  elseif counts ~= "" then
    hs.message = "Pool is paused; " .. counts
  else
    hs.message = "Pool is paused"
  end
  return hs
end

local updating = condition("Updating")
local behind = status.machineCount ~= nil and (status.updatedMachineCount or 0) < status.machineCount
if updating ~= nil or behind then
  hs.status = "Progressing"
  hs.message = text(updating, "Updating")
  if counts ~= "" then
    hs.message = hs.message .. " (" .. counts .. ")"
  end
  return hs
end

local updated = condition("Updated")
if updated ~= nil then
  hs.status = "Healthy"
  hs.message = text(updated, "All machines are updated")
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the Machine Config Operator to report the pool's status"
return hs
