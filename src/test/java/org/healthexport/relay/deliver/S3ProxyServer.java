package org.healthexport.relay.deliver;

import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A real S3 server (S3Proxy 4.1.0) in this JVM on 127.0.0.1: a "transient" (memory) or "filesystem" store that
 * survives {@link #stop()} and {@link #restart()} on the same port, for outage tests and the benchmark.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "relay-test-access";
    public static final String SECRET_KEY = "relay-test-secret-Zq81kP";
    private final BlobStore store;
    private final boolean authenticated;
    private S3Proxy proxy;
    private int port;
    private Path keyStore;
    private String keyStorePassword;

    private S3ProxyServer(BlobStore store, boolean authenticated) {
        this.store = store;
        this.authenticated = authenticated;
    }

    /** {@code provider}: "transient" or "filesystem" (then {@code basedir} holds the objects); port 0 = any. */
    public static S3ProxyServer start(String provider, Path basedir, boolean authenticated, int port) throws Exception {
        Properties props = new Properties();
        Path dir = basedir != null ? basedir : Files.createTempDirectory("s3proxy");
        props.setProperty("jclouds.filesystem.basedir", dir.toFile().getCanonicalPath());
        props.setProperty("jclouds.identity", authenticated ? ACCESS_KEY : "");
        props.setProperty("jclouds.credential", authenticated ? SECRET_KEY : "");
        S3ProxyServer server = new S3ProxyServer(BlobStores.create(provider, props), authenticated);
        server.port = port;
        server.restart();
        return server;
    }

    public static S3ProxyServer start() throws Exception {
        return start("transient", null, true, 0);
    }

    /** HTTPS only, with the key and certificate of this PKCS12 store (TLS tests). */
    public static S3ProxyServer startHttps(Path keyStore, String password) throws Exception {
        Properties props = new Properties();
        props.setProperty("jclouds.identity", ACCESS_KEY);
        props.setProperty("jclouds.credential", SECRET_KEY);
        S3ProxyServer server = new S3ProxyServer(BlobStores.create("transient", props), true);
        server.keyStore = keyStore;
        server.keyStorePassword = password;
        server.restart();
        return server;
    }

    public synchronized void restart() throws Exception {
        S3Proxy.Builder builder = S3Proxy.builder().blobStore(store).stopTimeout(0);
        builder = keyStore == null ? builder.endpoint(URI.create("http://127.0.0.1:" + port))
                : builder.secureEndpoint(URI.create("https://127.0.0.1:" + port))
                        .keyStore(keyStore.toString(), keyStorePassword);
        builder = authenticated ? builder.awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                : builder.awsAuthentication(AuthenticationType.NONE, null, null);
        proxy = builder.build();
        proxy.start();
        long until = System.currentTimeMillis() + 10_000;
        while (!"STARTED".equals(proxy.getState()) && System.currentTimeMillis() < until) {
            Thread.sleep(10);
        }
        port = keyStore == null ? proxy.getPort() : proxy.getSecurePort();
    }

    public synchronized void stop() throws Exception {
        proxy.stop();
    }

    public URI endpoint() {
        return URI.create((keyStore == null ? "http" : "https") + "://127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    /** A plain client for checking what landed. */
    public S3Client client() {
        return S3Client.builder().region(Region.US_EAST_1).endpointOverride(endpoint()).forcePathStyle(true)
                .credentialsProvider(authenticated
                        ? StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY))
                        : AnonymousCredentialsProvider.create())
                .build();
    }

    public void createBucket(String bucket) {
        try (S3Client s3 = client()) {
            s3.createBucket(b -> b.bucket(bucket));
        }
    }

    @Override
    public void close() throws Exception {
        stop();
    }
}
