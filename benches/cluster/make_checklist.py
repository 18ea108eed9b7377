#!/usr/bin/env python3
"""Writes checklist.toml: 100 kube checks over the four resource types of the
synthetic cluster (Pods, Deployments, Services, ConfigMaps), the kind a
platform team runs against a whole cluster. Regenerate with
`python3 benches/cluster/make_checklist.py > benches/cluster/checklist.toml`."""

CONTAINERS = "object.spec.containers"
TEMPLATE = "object.spec.template.spec.containers"

def each(path, cond):
    return f"{path}.all(c, {cond})"

def sc(field, want):
    return (f"(has(c.securityContext) && has(c.securityContext.{field}) "
            f"&& c.securityContext.{field} == {want})")

pod = [
    ("memory limits", each(CONTAINERS, "has(c.resources.limits) && has(c.resources.limits.memory)")),
    ("cpu limits", each(CONTAINERS, "has(c.resources.limits) && has(c.resources.limits.cpu)")),
    ("memory requests", each(CONTAINERS, "has(c.resources.requests) && has(c.resources.requests.memory)")),
    ("cpu requests", each(CONTAINERS, "has(c.resources.requests) && has(c.resources.requests.cpu)")),
    ("no latest tag", each(CONTAINERS, "!c.image.endsWith(':latest') && c.image.contains(':')")),
    ("not privileged", each(CONTAINERS, "!has(c.securityContext) || !has(c.securityContext.privileged) || !c.securityContext.privileged")),
    ("readiness probe", each(CONTAINERS, "has(c.readinessProbe)")),
    ("liveness probe", each(CONTAINERS, "has(c.livenessProbe)")),
    ("no host network", "!has(object.spec.hostNetwork) || !object.spec.hostNetwork"),
    ("no host PID", "!has(object.spec.hostPID) || !object.spec.hostPID"),
    ("no host IPC", "!has(object.spec.hostIPC) || !object.spec.hostIPC"),
    ("no hostPath", "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))"),
    ("running", "has(object.status.phase) && object.status.phase in ['Running', 'Succeeded']"),
    ("containers ready", "!has(object.status.containerStatuses) || object.status.containerStatuses.all(s, s.ready)"),
    ("few restarts", "!has(object.status.containerStatuses) || object.status.containerStatuses.all(s, s.restartCount < 5)"),
    ("owned by a controller", "has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(o, has(o.controller) && o.controller)"),
    ("own service account", "has(object.spec.serviceAccountName) && object.spec.serviceAccountName != 'default'"),
    ("name label", "has(object.metadata.labels) && 'app.kubernetes.io/name' in object.metadata.labels"),
    ("memory limit at most 1Gi", each(CONTAINERS, "!has(c.resources.limits) || !has(c.resources.limits.memory) || quantity(c.resources.limits.memory) <= quantity('1Gi')")),
    ("cpu request at least 50m", each(CONTAINERS, "has(c.resources.requests) && has(c.resources.requests.cpu) && quantity(c.resources.requests.cpu) >= quantity('50m')")),
    ("trusted registry", each(CONTAINERS, "c.image.startsWith('registry.example.com/')")),
    ("pull policy", each(CONTAINERS, "!has(c.imagePullPolicy) || c.imagePullPolicy != 'Always'")),
    ("short grace period", "!has(object.spec.terminationGracePeriodSeconds) || object.spec.terminationGracePeriodSeconds <= 60"),
    ("cluster DNS", "!has(object.spec.dnsPolicy) || object.spec.dnsPolicy == 'ClusterFirst'"),
    ("not best effort", "!has(object.status.qosClass) || object.status.qosClass != 'BestEffort'"),
    ("ready condition", "has(object.status.conditions) && object.status.conditions.exists(x, x.type == 'Ready' && x.status == 'True')"),
    ("named ports", each(CONTAINERS, "!has(c.ports) || c.ports.all(p, has(p.name))")),
    ("runs as non-root", "(has(object.spec.securityContext) && has(object.spec.securityContext.runAsNonRoot) && object.spec.securityContext.runAsNonRoot) || " + each(CONTAINERS, sc("runAsNonRoot", "true"))),
    ("no privilege escalation", each(CONTAINERS, sc("allowPrivilegeEscalation", "false"))),
    ("read-only root", each(CONTAINERS, sc("readOnlyRootFilesystem", "true"))),
]
deploy = [
    ("two replicas", "has(object.spec.replicas) && object.spec.replicas >= 2"),
    ("rolling update", "has(object.spec.strategy.type) && object.spec.strategy.type == 'RollingUpdate'"),
    ("all available", "has(object.status.availableReplicas) && object.status.availableReplicas == object.spec.replicas"),
    ("memory limits", each(TEMPLATE, "has(c.resources.limits) && has(c.resources.limits.memory)")),
    ("cpu requests", each(TEMPLATE, "has(c.resources.requests) && has(c.resources.requests.cpu)")),
    ("no latest tag", each(TEMPLATE, "!c.image.endsWith(':latest')")),
    ("readiness probe", each(TEMPLATE, "has(c.readinessProbe)")),
    ("not privileged", each(TEMPLATE, "!has(c.securityContext) || !has(c.securityContext.privileged) || !c.securityContext.privileged")),
    ("name label", "has(object.metadata.labels) && 'app.kubernetes.io/name' in object.metadata.labels"),
    ("part-of label", "has(object.metadata.labels) && 'app.kubernetes.io/part-of' in object.metadata.labels"),
    ("selector matches template", "object.spec.selector.matchLabels.all(k, k in object.spec.template.metadata.labels)"),
    ("progress deadline", "has(object.spec.progressDeadlineSeconds) && object.spec.progressDeadlineSeconds <= 900"),
    ("history kept short", "!has(object.spec.revisionHistoryLimit) || object.spec.revisionHistoryLimit <= 10"),
    ("progressing", "has(object.status.conditions) && object.status.conditions.exists(x, x.type == 'Progressing' && x.status == 'True')"),
    ("available condition", "has(object.status.conditions) && object.status.conditions.exists(x, x.type == 'Available' && x.status == 'True')"),
    ("observed", "has(object.status.observedGeneration) && object.status.observedGeneration >= object.metadata.generation"),
    ("trusted registry", each(TEMPLATE, "c.image.startsWith('registry.example.com/')")),
    ("grace period", "!has(object.spec.template.spec.terminationGracePeriodSeconds) || object.spec.template.spec.terminationGracePeriodSeconds <= 60"),
    ("liveness probe", each(TEMPLATE, "has(c.livenessProbe)")),
    ("max unavailable set", "has(object.spec.strategy.rollingUpdate) && has(object.spec.strategy.rollingUpdate.maxUnavailable)"),
]
service = [
    ("has a selector", "has(object.spec.selector) && size(object.spec.selector) > 0"),
    ("no NodePort", "object.spec.type != 'NodePort'"),
    ("no LoadBalancer", "object.spec.type != 'LoadBalancer'"),
    ("named ports", "object.spec.ports.all(p, has(p.name))"),
    ("TCP only", "object.spec.ports.all(p, !has(p.protocol) || p.protocol == 'TCP')"),
    ("single stack", "!has(object.spec.ipFamilyPolicy) || object.spec.ipFamilyPolicy == 'SingleStack'"),
    ("no session affinity", "!has(object.spec.sessionAffinity) || object.spec.sessionAffinity == 'None'"),
    ("name label", "has(object.metadata.labels) && 'app.kubernetes.io/name' in object.metadata.labels"),
    ("cluster traffic", "!has(object.spec.internalTrafficPolicy) || object.spec.internalTrafficPolicy == 'Cluster'"),
    ("target port set", "object.spec.ports.all(p, has(p.targetPort))"),
]
config = [
    ("log level not debug", "!has(object.data) || !('LOG_LEVEL' in object.data) || object.data.LOG_LEVEL != 'debug'"),
    ("immutable", "has(object.immutable) && object.immutable"),
    ("name label", "has(object.metadata.labels) && 'app.kubernetes.io/name' in object.metadata.labels"),
    ("has data", "has(object.data) && size(object.data) > 0"),
    ("graceful shutdown", "!has(object.data) || !('application.yaml' in object.data) || object.data['application.yaml'].contains('shutdown: graceful')"),
    ("no binary data", "!has(object.binaryData)"),
    ("flags set", "!has(object.data) || !('FEATURE_FLAGS' in object.data) || object.data.FEATURE_FLAGS.contains('=')"),
    ("small", "!has(object.data) || object.data.all(k, size(object.data[k]) < 4096)"),
]

# (resource, templates, how many checks): 40 + 30 + 15 + 15 = 100. Past
# the first round, a check looks in one team's namespace or at one app.
plan = [("v1/Pod", pod, 40), ("apps/v1/Deployment", deploy, 30),
        ("v1/Service", service, 15), ("v1/ConfigMap", config, 15)]
severities = ["blocker", "high", "medium", "low"]
print("# 100 kube checks over the synthetic cluster of benches/cluster.sh")
print("# (Pods, Deployments, Services, ConfigMaps), written by make_checklist.py.")
print('id = "bench-cluster"')
print('title = "Synthetic cluster: 100 checks"')
print('version = "bench"')
n = 0
for resource, templates, count in plan:
    print()
    print("[[sections]]")
    print(f'id = "{resource.split("/")[-1].lower()}"')
    print(f'title = "{resource}"')
    for i in range(count):
        title, expect = templates[i % len(templates)]
        scope = ""
        if i >= len(templates):
            team = i % 50
            scope = f'namespace = "team-{team:02}"\n'
        print()
        print("[[sections.items]]")
        print(f'id = "check-{n:03}"')
        print(f'title = "{resource}: {title}{" in team-%02d" % (i % 50) if scope else ""}"')
        print(f'severity = "{severities[n % 4]}"')
        print("[sections.items.probe]")
        print('kind = "kube"')
        print(f'resource = "{resource}"')
        print(scope, end="")
        print("min = 0")
        print("expect = '''" + expect + "'''")
        n += 1
