// Package deploy holds no code: its tests check the deployment kit beside
// them — the Kubernetes manifests and components in kubernetes/, the alert
// rules in prometheus/ and the dashboard in grafana/ — with kustomize's own
// library, the Kubernetes API types, the Prometheus Operator's types and
// Prometheus's own parsers. It is a module of its own so that the bot's
// module does not depend on them: cd deploy && go test ./...
package deploy
