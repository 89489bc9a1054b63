{{- /*
ClusterPolicy/cluster-policy from the values, as NVIDIA's templates/clusterpolicy.yaml renders it (the union of
v24.9 to v26.3: a key a version's values do not have is simply not set, and values.schema.json refuses keys the
version does not have). See tests/emulators/charts/README.md for what differs from the real chart.
*/ -}}
{{- $img := splitList " " (include "gpuvirt.image-keys" .) -}}
{{- $v := .Values -}}
{{- /* what changed between the versions' templates */ -}}
{{- $before2510 := semverCompare "< 25.10.0-0" .Chart.Version -}}
{{- $before26 := semverCompare "< 26.0.0-0" .Chart.Version -}}
apiVersion: nvidia.com/v1
kind: ClusterPolicy
metadata:
  name: cluster-policy
  labels:
    {{- include "gpu-operator.labels" . | nindent 4 }}
    app.kubernetes.io/component: "gpu-operator"
  {{- if $v.operator.cleanupCRD }}
  annotations:
    "helm.sh/resource-policy": keep
  {{- end }}
spec:
  hostPaths:
    {{- include "gpuvirt.fields" (list $v.hostPaths (list "rootFS" "driverInstallDir") list) | nindent 4 }}
  operator:
    {{- include "gpuvirt.fields" (list $v.operator (list "defaultRuntime" "runtimeClass" "defaultGPUMode" "initContainer" "use_ocp_driver_toolkit") list) | nindent 4 }}
  daemonsets:
    labels:
      {{- include "gpu-operator.operand-labels" . | nindent 6 }}
    {{- with (include "gpuvirt.fields" (list $v.daemonsets (list "annotations" "tolerations" "priorityClassName" "updateStrategy") list) | fromYaml) }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- if $v.daemonsets.rollingUpdate }}
    rollingUpdate:
      maxUnavailable: {{ $v.daemonsets.rollingUpdate.maxUnavailable | quote }}
    {{- end }}
  validator:
    {{- include "gpuvirt.fields" (list (omit $v.validator "version") $img list) | nindent 4 }}
    version: {{ $v.validator.version | default .Chart.AppVersion | quote }}
    {{- range $check := list "plugin" "cuda" "driver" "toolkit" "vfioPCI" "vgpuManager" "vgpuDevices" }}
    {{- with get $v.validator $check }}
    {{ $check }}:
      {{- if .env }}
      env: {{ toYaml .env | nindent 8 }}
      {{- else if not $before2510 }}
      env: []
      {{- end }}
    {{- end }}
    {{- end }}
  mig:
    {{- include "gpuvirt.fields" (list $v.mig (list "strategy") list) | nindent 4 }}
  psa:
    enabled: {{ $v.psa.enabled }}
  cdi:
    {{- include "gpuvirt.fields" (list (ternary $v.cdi (omit $v.cdi "nriPluginEnabled") (eq $v.cdi.enabled true)) (list "default" "nriPluginEnabled") (ternary (list "enabled" "default") (list "enabled") $before2510)) | nindent 4 }}
  driver:
    {{- include "gpuvirt.fields" (list $v.driver (concat $img (list "startupProbe" "livenessProbe" "readinessProbe" "repoConfig" "certConfig" "licensingConfig" "virtualTopology" "kernelModuleConfig" "secretEnv")) (list "enabled" "useOpenKernelModules" "kernelModuleType" "usePrecompiled")) | nindent 4 }}
    {{- with $v.driver.nvidiaDriverCRD }}
    useNvidiaDriverCRD: {{ .enabled }}
    {{- end }}
    {{- with $v.driver.rdma }}
    rdma:
      enabled: {{ .enabled }}
      useHostMofed: {{ .useHostMofed }}
    {{- end }}
    manager:
      {{- include "gpuvirt.fields" (list $v.driver.manager (list "repository" "image" "version" "imagePullPolicy" "env") list) | nindent 6 }}
    {{- with $v.driver.upgradePolicy }}
    upgradePolicy:
      autoUpgrade: {{ .autoUpgrade | default false }}
      maxParallelUpgrades: {{ .maxParallelUpgrades | default 0 }}
      maxUnavailable: {{ .maxUnavailable | default "25%" }}
      waitForCompletion:
        {{- include "gpuvirt.fields" (list .waitForCompletion (list "podSelector") (list "timeoutSeconds")) | nindent 8 }}
      podDeletion:
        force: {{ .gpuPodDeletion.force | default false }}
        timeoutSeconds: {{ .gpuPodDeletion.timeoutSeconds }}
        deleteEmptyDir: {{ .gpuPodDeletion.deleteEmptyDir | default false }}
      drain:
        enable: {{ .drain.enable | default false }}
        force: {{ .drain.force | default false }}
        {{- if .drain.podSelector }}
        podSelector: {{ .drain.podSelector }}
        {{- end }}
        timeoutSeconds: {{ .drain.timeoutSeconds }}
        deleteEmptyDir: {{ .drain.deleteEmptyDir | default false }}
    {{- end }}
  vgpuManager:
    {{- include "gpuvirt.fields" (list $v.vgpuManager (concat $img (list "kernelModuleConfig")) (list "enabled")) | nindent 4 }}
    driverManager:
      {{- include "gpuvirt.fields" (list $v.vgpuManager.driverManager (list "repository" "image" "version" "imagePullPolicy" "env") list) | nindent 6 }}
  kataManager:
    {{- include "gpuvirt.fields" (list $v.kataManager (concat $img (list "config")) (list "enabled")) | nindent 4 }}
  vfioManager:
    {{- include "gpuvirt.fields" (list $v.vfioManager $img (list "enabled")) | nindent 4 }}
    driverManager:
      {{- include "gpuvirt.fields" (list $v.vfioManager.driverManager (list "repository" "image" "version" "imagePullPolicy" "env") list) | nindent 6 }}
  vgpuDeviceManager:
    {{- include "gpuvirt.fields" (list $v.vgpuDeviceManager (concat $img (list "config")) (list "enabled")) | nindent 4 }}
  ccManager:
    {{- /* before v25.10.0 the template wrote vfioManager.env as ccManager's env */}}
    {{- $ccBug := and $before2510 (not (empty $v.ccManager.env)) }}
    {{- include "gpuvirt.fields" (list (ternary (merge (dict "env" $v.vfioManager.env) (omit $v.ccManager "env")) $v.ccManager $ccBug) $img (ternary (list "enabled" "env") (list "enabled") $ccBug)) | nindent 4 }}
    defaultMode: {{ $v.ccManager.defaultMode | quote }}
  toolkit:
    {{- include "gpuvirt.fields" (list $v.toolkit (concat $img (list "installDir")) (list "enabled")) | nindent 4 }}
  devicePlugin:
    {{- include "gpuvirt.fields" (list $v.devicePlugin $img (list "enabled")) | nindent 4 }}
    {{- if and $v.devicePlugin.config $v.devicePlugin.config.name }}
    config:
      name: {{ $v.devicePlugin.config.name | quote }}
      default: {{ ternary $v.devicePlugin.config.default ($v.devicePlugin.config.default | quote) $before26 }}
    {{- end }}
  dcgm:
    {{- include "gpuvirt.fields" (list $v.dcgm $img (list "enabled")) | nindent 4 }}
  dcgmExporter:
    {{- include "gpuvirt.fields" (list $v.dcgmExporter (concat $img (list "annotations" "serviceMonitor" "service" "hostPID" "hpcJobMapping" "enablePodLabels" "enablePodUID" "podLabelAllowlistRegex")) (list "enabled")) | nindent 4 }}
    {{- if and $v.dcgmExporter.config $v.dcgmExporter.config.name }}
    config:
      name: {{ $v.dcgmExporter.config.name }}
    {{- end }}
  gfd:
    {{- include "gpuvirt.fields" (list $v.gfd $img (list "enabled")) | nindent 4 }}
  migManager:
    {{- include "gpuvirt.fields" (list $v.migManager (concat $img (list "gpuClientsConfig")) (list "enabled")) | nindent 4 }}
    {{- with $v.migManager.config }}
    config:
      {{- if or .name $before26 }}
      name: {{ .name }}
      {{- end }}
      default: {{ .default | quote }}
    {{- end }}
  nodeStatusExporter:
    {{- include "gpuvirt.fields" (list (omit $v.nodeStatusExporter "version") $img (list "enabled")) | nindent 4 }}
    version: {{ $v.nodeStatusExporter.version | default .Chart.AppVersion | quote }}
  {{- if ternary $v.gds.enabled $v.gds $before2510 }}
  gds:
    {{- include "gpuvirt.fields" (list $v.gds $img (list "enabled")) | nindent 4 }}
  {{- end }}
  {{- with $v.gdrcopy }}
  gdrcopy:
    {{- include "gpuvirt.fields" (list . $img (list "enabled")) | nindent 4 }}
  {{- end }}
  sandboxWorkloads:
    {{- include "gpuvirt.fields" (list $v.sandboxWorkloads (list "defaultWorkload" "mode") (list "enabled")) | nindent 4 }}
  sandboxDevicePlugin:
    {{- include "gpuvirt.fields" (list $v.sandboxDevicePlugin (concat (list "enabled") $img) list) | nindent 4 }}
  {{- if hasKey $v "kataSandboxDevicePlugin" }}
  kataSandboxDevicePlugin:
    {{- include "gpuvirt.fields" (list $v.kataSandboxDevicePlugin $img (ternary list (list "enabled") (kindIs "invalid" $v.kataSandboxDevicePlugin.enabled))) | nindent 4 }}
  {{- end }}
