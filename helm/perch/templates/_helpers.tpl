{{/*
Chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "perch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, plus the chart name unless the
release name already contains it; truncated to 63 characters.
*/}}
{{- define "perch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "perch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "perch.labels" -}}
helm.sh/chart: {{ include "perch.chart" . }}
{{ include "perch.selectorLabels" . }}
app.kubernetes.io/version: {{ include "perch.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/part-of: perch
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels. These are immutable on a Deployment: never change them.
*/}}
{{- define "perch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "perch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Image tag: image.tag, or the chart's appVersion.
*/}}
{{- define "perch.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString }}
{{- end }}

{{/*
Name of the Secret the chart creates (only when database.url or
bootstrap.token is set).
*/}}
{{- define "perch.secretName" -}}
{{- include "perch.fullname" . }}
{{- end }}

{{/*
True ("true") when the chart must create its own Secret.
*/}}
{{- define "perch.createSecret" -}}
{{- if or .Values.database.url .Values.bootstrap.token }}true{{ end }}
{{- end }}

{{/*
Validate the values; fail rendering with a clear message on a mistake.
*/}}
{{- define "perch.validate" -}}
{{- if and (not .Values.database.url) (not .Values.database.existingSecret) }}
{{- fail "perch: a database is required: set database.url (e.g. --set database.url=postgres://USER:PASSWORD@HOST:5432/perch) or database.existingSecret (a Secret holding the URL under database.existingSecretKey, default \"database-url\"). The embedded SQLite is for single-node/demo use only and is not supported by this chart." }}
{{- end }}
{{- if and .Values.database.url .Values.database.existingSecret }}
{{- fail "perch: set either database.url or database.existingSecret, not both." }}
{{- end }}
{{- if and .Values.database.existingSecret (not .Values.database.existingSecretKey) }}
{{- fail "perch: database.existingSecretKey must name the key holding the URL in database.existingSecret." }}
{{- end }}
{{- if and .Values.bootstrap.token .Values.bootstrap.existingSecret }}
{{- fail "perch: set either bootstrap.token or bootstrap.existingSecret, not both." }}
{{- end }}
{{- if and .Values.bootstrap.token (lt (len (toString .Values.bootstrap.token)) 24) }}
{{- fail "perch: bootstrap.token must be at least 24 random characters (for example: openssl rand -hex 24)." }}
{{- end }}
{{- if and .Values.bootstrap.existingSecret (not .Values.bootstrap.existingSecretKey) }}
{{- fail "perch: bootstrap.existingSecretKey must name the key holding the token in bootstrap.existingSecret." }}
{{- end }}
{{- if not (has (toString .Values.perch.demo) (list "auto" "true" "false")) }}
{{- fail (printf "perch: perch.demo=%v: want \"auto\", \"true\" or \"false\"." .Values.perch.demo) }}
{{- end }}
{{- $drain := add (int .Values.preStopSleepSeconds) (int .Values.perch.shutdownTimeoutSeconds) }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $drain) }}
{{- fail (printf "perch: terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + perch.shutdownTimeoutSeconds (%d), or pods are killed mid-drain." (int .Values.terminationGracePeriodSeconds) (int $drain)) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- fail "perch: autoscaling.maxReplicas must be >= autoscaling.minReplicas." }}
{{- end }}
{{- if not (has .Values.perch.logFormat (list "text" "json")) }}
{{- fail (printf "perch: perch.logFormat=%v: want text or json." .Values.perch.logFormat) }}
{{- end }}
{{- end }}

{{/*
Secret name and key for PERCH_DATABASE_URL.
*/}}
{{- define "perch.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- tpl .Values.database.existingSecret . }}
{{- else }}
{{- include "perch.secretName" . }}
{{- end }}
{{- end }}

{{- define "perch.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey }}
{{- else -}}
database-url
{{- end }}
{{- end }}

{{/*
Secret name and key for PERCH_BOOTSTRAP_TOKEN (use only when
perch.bootstrapEnabled).
*/}}
{{- define "perch.bootstrapEnabled" -}}
{{- if or .Values.bootstrap.token .Values.bootstrap.existingSecret }}true{{ end }}
{{- end }}

{{- define "perch.bootstrapSecretName" -}}
{{- if .Values.bootstrap.existingSecret }}
{{- tpl .Values.bootstrap.existingSecret . }}
{{- else }}
{{- include "perch.secretName" . }}
{{- end }}
{{- end }}

{{- define "perch.bootstrapSecretKey" -}}
{{- if .Values.bootstrap.existingSecret }}
{{- .Values.bootstrap.existingSecretKey }}
{{- else -}}
bootstrap-token
{{- end }}
{{- end }}
