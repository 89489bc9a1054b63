{{/*
Helpers of the gpuvirt.core stand-in for NVIDIA's gpu-operator chart (tests/emulators/charts/README.md).
*/}}
{{- define "gpu-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gpu-operator.labels" -}}
app.kubernetes.io/name: {{ include "gpu-operator.name" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gpu-operator.operand-labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ include "gpu-operator.name" . }}
{{- with .Values.daemonsets.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
gpuvirt.fields (list SECTION KEYS ALWAYS): the keys of SECTION (a values map) named in KEYS that are set (not
empty, not false), as the real template's `{{- if .Values.X.key }} key: ...` lines render them, plus the keys
named in ALWAYS whenever SECTION has them (the real template's unconditional lines, e.g. `enabled`). A `version`
is rendered as a string (the real template quotes it). Output: a YAML mapping.
*/}}
{{- define "gpuvirt.fields" -}}
{{- $section := index . 0 | default dict -}}
{{- $out := dict -}}
{{- range $key := index . 1 -}}
{{- $value := get $section $key -}}
{{- if $value -}}
{{- if eq $key "version" }}{{ $value = toString $value }}{{ end -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- range $key := index . 2 -}}
{{- if hasKey $section $key -}}
{{- $_ := set $out $key (get $section $key) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The keys an operand section renders when set: image, pull settings, resources, env, args, host network. */}}
{{- define "gpuvirt.image-keys" -}}
repository image version imagePullPolicy imagePullSecrets resources env args hostNetwork
{{- end -}}
