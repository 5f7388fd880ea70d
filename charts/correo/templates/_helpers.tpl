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

{{/* The Secret holding tls.crt/tls.key, or "" for the self-signed fallback. */}}
{{- define "correo.tlsSecret" -}}
{{- if .Values.tls.existingSecret -}}
{{ .Values.tls.existingSecret }}
{{- else if .Values.tls.certManager.enabled -}}
{{ include "correo.fullname" . }}-tls
{{- end -}}
{{- end -}}

{{/* Environment variable prefix of a service's TLS files, or "" for services without TLS. */}}
{{- define "correo.tlsPrefix" -}}
{{- $prefixes := dict "smtp-ingress" "SMTP" "imap-gateway" "IMAP" "pop3-gateway" "POP3" "managesieve-gateway" "MANAGESIEVE" -}}
{{- get $prefixes . -}}
{{- end -}}

{{/*
The webmail's gateways: the imap-gateway, smtp-ingress and managesieve-gateway Services, STARTTLS on all, the TLS Secret's
certificate trusted, checked against WEBMAIL_TLS_SERVERNAME (default: the first cert-manager dnsName).
A variable set in the webmail's own env wins.
*/}}
{{- define "correo.webmailGateways" -}}
{{- $env := .svc.env | default dict -}}
{{- $fullname := include "correo.fullname" .root -}}
{{- $defaults := dict "WEBMAIL_IMAP_HOST" (printf "%s-imap-gateway" $fullname) "WEBMAIL_IMAP_PORT" "143" "WEBMAIL_SUBMISSION_HOST" (printf "%s-smtp-ingress" $fullname) "WEBMAIL_SUBMISSION_PORT" "587" "WEBMAIL_MANAGESIEVE_HOST" (printf "%s-managesieve-gateway" $fullname) "WEBMAIL_MANAGESIEVE_PORT" "4190" -}}
{{- if .tlsSecret -}}
{{- $_ := set $defaults "WEBMAIL_TLS_CA_FILE" "/etc/correo/tls/tls.crt" -}}
{{- end -}}
{{- with .root.Values.tls.certManager.dnsNames -}}
{{- $_ := set $defaults "WEBMAIL_TLS_SERVERNAME" (first .) -}}
{{- end -}}
{{- if .root.Values.webmailProxyProtocol.podCidr -}}
{{- $_ := set $defaults "WEBMAIL_PROXY_PROTOCOL" "true" -}}
{{- end -}}
{{- range $key, $value := $defaults }}
{{- if not (hasKey $env $key) }}
- { name: {{ $key }}, value: {{ $value | quote }} }
{{- end }}
{{- end }}
{{- end -}}

{{/* Per-credential Secret references (secretRefs): env entries that win over envFrom. */}}
{{- define "correo.secretRefEnv" -}}
{{- range $name, $ref := .Values.secretRefs }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef: { name: {{ $ref.name }}, key: {{ $ref.key }} }
{{- end }}
{{- end -}}

{{/* Writable places under the read-only root filesystem. */}}
{{- define "correo.writableMounts" -}}
- { name: tmp, mountPath: /tmp }
- { name: data, mountPath: {{ .Values.env.CORREO_DATA_DIR | default "/var/lib/correo" }} }
{{- end -}}
{{- define "correo.writableVolumes" -}}
- name: tmp
  emptyDir: { sizeLimit: 256Mi }
- name: data
  emptyDir: { sizeLimit: 64Mi }
{{- end -}}
