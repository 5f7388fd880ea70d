{{- define "correo.fullname" -}}
{{- printf "%s-correo" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "correo.labels" -}}
app.kubernetes.io/name: correo
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "correo.selector" -}}
app.kubernetes.io/name: correo
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "correo.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{- define "correo.secretName" -}}
{{- default (printf "%s-env" (include "correo.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{/* The environment every correo container gets: shared config, then secrets. */}}
{{- define "correo.envFrom" -}}
- configMapRef:
    name: {{ include "correo.fullname" . }}-env
{{- if or .Values.existingSecret .Values.secretEnv }}
- secretRef:
    name: {{ include "correo.secretName" . }}
{{- end }}
{{- end -}}
