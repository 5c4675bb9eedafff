package org.healthexport.relay.http;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Self-signed certificates made at test time with the running JDK's keytool (no key committed): a key store
 * for an HTTPS sandbox on 127.0.0.1 and a trust store holding only its certificate. Made once per test JVM.
 */
public final class TestTls {
    public static final String KEY_STORE_PASSWORD = "sandbox-key-store";
    /** A sentinel: tests check that it appears in no log line. */
    public static final String TRUST_STORE_PASSWORD = "TRUST-STORE-sentinel-4d1c";
    private static Stores stores;

    private TestTls() {
    }

    /**
     * @param serverKeyStore PKCS12 with the key and certificate of CN=127.0.0.1 (SAN ip:127.0.0.1, dns:localhost)
     * @param trustStore     PKCS12 with that certificate only (password {@link #TRUST_STORE_PASSWORD})
     * @param wrongHostKeyStore PKCS12 with a certificate for relay.invalid only, served on 127.0.0.1
     * @param wrongHostTrustStore its certificate only
     */
    public record Stores(Path serverKeyStore, Path trustStore, Path wrongHostKeyStore, Path wrongHostTrustStore) {
    }

    public static synchronized Stores stores() {
        if (stores == null) {
            try {
                Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target/test-tls")), "stores");
                Path server = dir.resolve("sandbox.p12");
                Path trust = dir.resolve("trust.p12");
                pair(dir, server, trust, "sandbox", "ip:127.0.0.1,dns:localhost");
                Path wrongServer = dir.resolve("wrong-host.p12");
                Path wrongTrust = dir.resolve("wrong-host-trust.p12");
                pair(dir, wrongServer, wrongTrust, "wrong", "dns:relay.invalid");
                stores = new Stores(server.toAbsolutePath(), trust.toAbsolutePath(), wrongServer.toAbsolutePath(),
                        wrongTrust.toAbsolutePath());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return stores;
    }

    private static void pair(Path dir, Path keyStore, Path trustStore, String alias, String san) throws IOException {
        Path pem = dir.resolve(alias + ".pem");
        keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + (san.startsWith("ip:127") ? "127.0.0.1" : "relay.invalid"), "-ext", "SAN=" + san,
                "-validity", "30", "-storetype", "PKCS12", "-keystore", keyStore.toString(),
                "-storepass", KEY_STORE_PASSWORD, "-keypass", KEY_STORE_PASSWORD);
        keytool("-exportcert", "-alias", alias, "-rfc", "-file", pem.toString(), "-storetype", "PKCS12",
                "-keystore", keyStore.toString(), "-storepass", KEY_STORE_PASSWORD);
        keytool("-importcert", "-noprompt", "-alias", alias, "-file", pem.toString(), "-storetype", "PKCS12",
                "-keystore", trustStore.toString(), "-storepass", TRUST_STORE_PASSWORD);
    }

    private static void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        try {
            if (process.waitFor() != 0) {
                throw new IOException("keytool " + args[0] + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
