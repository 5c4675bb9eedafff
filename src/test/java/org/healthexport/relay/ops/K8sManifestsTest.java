package org.healthexport.relay.ops;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kubernetes manifests as kubectl renders them (`kubectl kustomize`), parsed as typed objects with the fabric8
 * model, checked against what the relay really does: the port and paths it serves, the files it loads from its
 * working directory, its shutdown timeouts, and the image Jib builds (pom.xml). Skipped where kubectl is absent.
 */
class K8sManifestsTest {
    static final Path ROOT = Path.of("").toAbsolutePath();

    static final Map<String, List<HasMetadata>> RENDERED = new HashMap<>();

    /** Renders one kustomization with kubectl (once per test run) and parses every document. */
    static synchronized List<HasMetadata> render(String dir) throws IOException, InterruptedException {
        if (!RENDERED.containsKey(dir)) {
            RENDERED.put(dir, kustomize(dir));
        }
        return RENDERED.get(dir);
    }

    static List<HasMetadata> kustomize(String dir) throws IOException, InterruptedException {
        Process kubectl;
        try {
            kubectl = new ProcessBuilder("kubectl", "kustomize", dir).directory(ROOT.toFile())
                    .redirectError(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            Assumptions.abort("kubectl is not installed: " + e.getMessage());
            throw e;
        }
        byte[] out = kubectl.getInputStream().readAllBytes();
        String err = new String(kubectl.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(kubectl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(kubectl.exitValue()).as("kubectl kustomize " + dir + ": " + err).isZero();
        Object parsed = Serialization.unmarshal(new String(out, StandardCharsets.UTF_8));
        List<HasMetadata> objects = new ArrayList<>();
        if (parsed instanceof KubernetesList list) {
            objects.addAll(list.getItems());
        } else if (parsed instanceof List<?> list) {
            list.forEach(o -> objects.add((HasMetadata) o));
        } else {
            objects.add((HasMetadata) parsed);
        }
        return objects;
    }

    static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = all(objects, type);
        assertThat(found).as(type.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    static Properties applicationProperties() throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(ROOT.resolve("application.properties"))) {
            p.load(in);
        }
        return p;
    }

    /** The default of a `{{key:default}}` placeholder, or the plain value. */
    static String defaultOf(String value) {
        Matcher m = Pattern.compile("\\{\\{[^:}]+:([^}]*)}}").matcher(value.trim());
        return m.matches() ? m.group(1) : value.trim();
    }

    static Container relay(Deployment d) {
        List<Container> containers = d.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).hasSize(1);
        return containers.get(0);
    }

    static int portOf(Container c, Probe probe) {
        String name = probe.getHttpGet().getPort().getStrVal();
        Integer number = probe.getHttpGet().getPort().getIntVal();
        return number != null ? number : c.getPorts().stream().filter(p -> p.getName().equals(name))
                .mapToInt(ContainerPort::getContainerPort).findFirst().orElseThrow();
    }

    static Map<String, String> decoded(Secret secret) {
        Map<String, String> values = new HashMap<>();
        if (secret.getData() != null) {
            secret.getData().forEach((k, v) -> values.put(k,
                    new String(Base64.getMimeDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        if (secret.getStringData() != null) {
            values.putAll(secret.getStringData());
        }
        return values;
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s", "k8s/base", "k8s/overlays/example"})
    void probesPointAtThePortAndPathsTheRelayServes(String dir) throws Exception {
        List<HasMetadata> objects = render(dir);
        Container c = relay(one(objects, Deployment.class));
        Properties app = applicationProperties();
        int port = Integer.parseInt(defaultOf(app.getProperty("camel.management.port")));
        assertThat(Integer.parseInt(defaultOf(app.getProperty("camel.server.port")))).as("API and /observe share a port")
                .isEqualTo(port);
        assertThat(app.getProperty("camel.management.health-check-enabled")).isEqualTo("true");
        assertThat(app.getProperty("camel.management.metrics-enabled")).isEqualTo("true");
        c.getEnv().stream().filter(e -> e.getName().equals("RELAY_HTTP_PORT"))
                .forEach(e -> assertThat(Integer.parseInt(e.getValue())).isEqualTo(port));
        // the relay listens on loopback unless told otherwise: probes need the pod address, which needs a token
        assertThat(c.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("RELAY_HTTP_HOST");
            assertThat(e.getValue()).isEqualTo("0.0.0.0");
        });
        assertThat(c.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("RELAY_API_TOKEN");
            assertThat(e.getValueFrom().getSecretKeyRef().getOptional()).isNotEqualTo(Boolean.TRUE);
        });
        assertThat(c.getPorts()).extracting(ContainerPort::getName, ContainerPort::getContainerPort)
                .contains(Tuple.tuple("http", port));

        String readme = Files.readString(ROOT.resolve("README.md"));
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/observe/health/live");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/observe/health/ready");
        assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/observe/health/live");
        for (Probe probe : List.of(c.getLivenessProbe(), c.getReadinessProbe(), c.getStartupProbe())) {
            assertThat(readme).contains(probe.getHttpGet().getPath());
            assertThat(portOf(c, probe)).isEqualTo(port);
        }
        // the readiness answer waits up to relay.health.store-timeout (3 s) for the store
        assertThat(Duration.ofSeconds(c.getReadinessProbe().getTimeoutSeconds())).isGreaterThan(Duration.ofSeconds(3));

        Service service = one(objects, Service.class);
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(port);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
        });
        Map<String, String> podLabels = one(objects, Deployment.class).getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
        assertThat(service.getMetadata().getAnnotations()).containsEntry("prometheus.io/path", "/observe/metrics")
                .containsEntry("prometheus.io/port", String.valueOf(port));
        assertThat(readme).contains("/observe/metrics");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/example"})
    void theConfigMapHoldsExactlyTheFilesTheRelayLoadsAndIsMountedWhereItReadsThem(String dir) throws Exception {
        List<HasMetadata> objects = render(dir);
        ConfigMap config = one(objects, ConfigMap.class);
        assertThat(config.getMetadata().getName()).startsWith("relay-config");

        Map<String, String> expected = new HashMap<>();
        expected.put("application.properties", Files.readString(ROOT.resolve("application.properties")));
        try (Stream<Path> routes = Files.list(ROOT.resolve("routes"))) {
            for (Path route : routes.filter(p -> p.getFileName().toString().endsWith(".camel.yaml")).toList()) {
                expected.put(route.getFileName().toString(), Files.readString(route));
            }
        }
        assertThat(new TreeSet<>(config.getData().keySet()))
                .as("ConfigMap keys; run k8s/sync-config.sh after adding or removing a route file")
                .isEqualTo(new TreeSet<>(expected.keySet()));
        expected.forEach((key, content) -> assertThat(config.getData().get(key))
                .as(key + " in the ConfigMap differs from the project's file: run k8s/sync-config.sh").isEqualTo(content));

        // RelayApplication reads ./application.properties and ./routes/*.camel.yaml from its working directory
        Deployment deployment = one(objects, Deployment.class);
        Container c = relay(deployment);
        String workDir = c.getWorkingDir();
        assertThat(workDir).isEqualTo("/relay");
        String volume = deployment.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getConfigMap() != null && v.getConfigMap().getName().equals(config.getMetadata().getName()))
                .map(Volume::getName).findFirst().orElseThrow();
        assertThat(c.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo(volume);
            assertThat(m.getMountPath()).isEqualTo(workDir + "/application.properties");
            assertThat(m.getSubPath()).isEqualTo("application.properties");
        });
        assertThat(c.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo(volume);
            assertThat(m.getMountPath()).isEqualTo(workDir + "/routes");
            assertThat(m.getSubPath()).isNull();
        });
        assertThat(c.getVolumeMounts()).filteredOn(m -> m.getName().equals(volume)).allMatch(VolumeMount::getReadOnly);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/example"})
    void podsRunUnprivilegedOnAReadOnlyRootWithWritableTempAndData(String dir) throws Exception {
        List<HasMetadata> objects = render(dir);
        Deployment deployment = one(objects, Deployment.class);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container c = relay(deployment);
        var podSec = pod.getSecurityContext();
        var sec = c.getSecurityContext();

        assertThat(podSec.getRunAsNonRoot()).isTrue();
        assertThat(sec.getRunAsNonRoot()).isNotEqualTo(false);
        assertThat(podSec.getRunAsUser()).isEqualTo(10001L);
        assertThat(sec.getRunAsUser() == null ? podSec.getRunAsUser() : sec.getRunAsUser()).isEqualTo(10001L);
        assertThat(podSec.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(sec.getSeccompProfile() == null ? "RuntimeDefault" : sec.getSeccompProfile().getType())
                .isEqualTo("RuntimeDefault");
        assertThat(sec.getReadOnlyRootFilesystem()).isTrue();
        assertThat(sec.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sec.getPrivileged()).isNotEqualTo(true);
        assertThat(sec.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(sec.getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(pod.getHostNetwork()).isNotEqualTo(true);
        assertThat(pod.getHostPID()).isNotEqualTo(true);

        // the image Jib builds runs as the same uid, from the same working directory
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        assertThat(pom).contains("<user>10001:10001</user>", "<workingDirectory>" + c.getWorkingDir() + "</workingDirectory>",
                "<image>eclipse-temurin:17-jre</image>");

        // writable: /tmp and ./data (H2 default, file target) on emptyDirs, nothing else
        Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
        for (String path : List.of("/tmp", c.getWorkingDir() + "/data")) {
            VolumeMount mount = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).findFirst()
                    .orElseThrow(() -> new AssertionError("no volume at " + path));
            assertThat(volumes.get(mount.getName()).getEmptyDir()).as(path).isNotNull();
            assertThat(mount.getReadOnly()).isNotEqualTo(true);
        }
        assertThat(pod.getVolumes()).allMatch(v -> v.getHostPath() == null);

        // requests and limits for both resources; heap sized from the limit
        for (String r : List.of("cpu", "memory")) {
            assertThat(c.getResources().getRequests()).containsKey(r);
            assertThat(c.getResources().getLimits()).containsKey(r);
        }
        assertThat(c.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("JAVA_TOOL_OPTIONS");
            assertThat(e.getValue()).contains("-XX:MaxRAMPercentage=75");
        });
    }

    @Test
    void gracePeriodOutlastsCamelsShutdownAndThePreStopPause() throws Exception {
        Deployment deployment = one(render("k8s/base"), Deployment.class);
        Properties app = applicationProperties();
        long shutdown = Long.parseLong(app.getProperty("camel.main.shutdown-timeout", "45"));
        long extra = Long.parseLong(app.getProperty("camel.main.extra-shutdown-timeout", "15"));
        List<String> preStop = relay(deployment).getLifecycle().getPreStop().getExec().getCommand();
        long pause = preStop.get(0).equals("sleep") ? Long.parseLong(preStop.get(1)) : 0;
        assertThat(deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .isGreaterThan(pause + shutdown + extra);
    }

    @Test
    void pdbServiceAccountAndNoKubernetesApiAccess() throws Exception {
        for (String dir : List.of("k8s/base", "k8s/overlays/example")) {
            List<HasMetadata> objects = render(dir);
            Deployment deployment = one(objects, Deployment.class);
            Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
            PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class);
            assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
            int replicas = deployment.getSpec().getReplicas();
            if (pdb.getSpec().getMinAvailable() != null) {
                assertThat(pdb.getSpec().getMinAvailable().getIntVal()).as("a drain must be possible").isLessThan(replicas);
            } else {
                assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isGreaterThanOrEqualTo(1);
            }
            ServiceAccount sa = one(objects, ServiceAccount.class);
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            assertThat(pod.getServiceAccountName()).isEqualTo(sa.getMetadata().getName());
            // kick-offs fire once through the store, not through leader election: no API token, no RBAC
            assertThat(sa.getAutomountServiceAccountToken()).isFalse();
            assertThat(pod.getAutomountServiceAccountToken()).isFalse();
            assertThat(objects).noneMatch(o -> o.getKind().endsWith("Role") || o.getKind().endsWith("RoleBinding"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"k8s/base", "k8s/overlays/example"})
    void theStoreComesFromTheSecretWhichHoldsOnlyPlaceholders(String dir) throws Exception {
        List<HasMetadata> objects = render(dir);
        Secret secret = one(objects, Secret.class);
        Map<String, String> values = decoded(secret);
        Container c = relay(one(objects, Deployment.class));
        for (String name : List.of("RELAY_STORE_URL", "RELAY_STORE_USERNAME", "RELAY_STORE_PASSWORD")) {
            EnvVar env = c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElseThrow();
            assertThat(env.getValueFrom().getSecretKeyRef().getName()).isEqualTo(secret.getMetadata().getName());
            assertThat(values).containsKey(env.getValueFrom().getSecretKeyRef().getKey());
        }
        assertThat(values.get("RELAY_STORE_URL")).startsWith("jdbc:postgresql://").doesNotContainIgnoringCase("password");
        // every value read from a Secret is one of its keys (optional ones excepted), and no value is real
        Set<String> keys = values.keySet();
        c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
                .map(e -> e.getValueFrom().getSecretKeyRef())
                .forEach(ref -> assertThat(keys.contains(ref.getKey()) || Boolean.TRUE.equals(ref.getOptional()))
                        .as(ref.getKey()).isTrue());
        values.forEach((key, value) -> {
            if (key.matches(".*(PASSWORD|TOKEN|SECRET|KEY).*")) {
                assertThat(value).as(key).startsWith("REPLACE_ME");
            }
        });
        // and no credential is written into the Deployment itself
        assertThat(c.getEnv()).filteredOn(e -> e.getName().matches(".*(PASSWORD|TOKEN|SECRET|KEY).*"))
                .allMatch(e -> e.getValue() == null && e.getValueFrom() != null);
    }

    @Test
    void theBaseIsNamespaceAgnosticAndTheOverlayPinsNamespaceAndReplicas() throws Exception {
        assertThat(render("k8s/base")).allMatch(o -> o.getMetadata().getNamespace() == null);
        List<HasMetadata> overlay = render("k8s/overlays/example");
        assertThat(one(overlay, Namespace.class).getMetadata().getName()).isEqualTo("health-export");
        assertThat(overlay).filteredOn(o -> !(o instanceof Namespace))
                .allMatch(o -> "health-export".equals(o.getMetadata().getNamespace()));
        Deployment deployment = one(overlay, Deployment.class);
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
        assertThat(relay(deployment).getImage()).isEqualTo("registry.example.org/health-export-relay:0.1.0");
        assertThat(relay(deployment).getEnv()).extracting(EnvVar::getName)
                .contains("RELAY_TARGET_KIND", "RELAY_TARGET_S3_BUCKET", "RELAY_STORE_URL", "RELAY_LOG_FORMAT");
    }

    @Test
    void theAlertRulesParseAndEachNamesAnExpressionAndARunbook() throws Exception {
        GenericKubernetesResource rule = Serialization.unmarshal(
                Files.readString(ROOT.resolve("k8s/prometheus-alerts.yaml")), GenericKubernetesResource.class);
        assertThat(rule.getKind()).isEqualTo("PrometheusRule");
        assertThat(rule.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        List<Map<String, Object>> groups = rule.get("spec", "groups");
        List<Map<String, Object>> rules = groups.stream()
                .flatMap(g -> ((List<Map<String, Object>>) g.get("rules")).stream()).toList();
        assertThat(rules).extracting(r -> r.get("alert")).contains("RelayJobsFailed", "RelayJobsActionNeeded",
                "RelayDeliveryStuck", "RelayUnknownStatus");
        String operations = Files.readString(ROOT.resolve("docs/operations.md"));
        for (Map<String, Object> r : rules) {
            assertThat((String) r.get("expr")).contains("relay_");
            assertThat(((Map<String, String>) r.get("labels")).get("severity")).isIn("warning", "critical");
            assertThat(((Map<String, String>) r.get("annotations")).get("description")).contains("docs/operations.md");
            assertThat(operations).as("docs/operations.md explains " + r.get("alert")).contains((String) r.get("alert"));
        }
    }
}
