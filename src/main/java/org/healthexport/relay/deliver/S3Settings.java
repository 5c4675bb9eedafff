package org.healthexport.relay.deliver;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.http.OutboundTls;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpConfigurationOption;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.utils.AttributeMap;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.TrustManager;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code relay.target.s3.*}: where and how objects are written. The secret key is kept out of
 * {@link #toString()} so the settings can be logged.
 */
public record S3Settings(String bucket, String region, URI endpoint, boolean pathStyle, String accessKey,
                         String secretKey, String prefix, String sse, String kmsKeyId, String storageClass,
                         int partSize, int partBuffers, boolean sha256, long singlePutMax,
                         SignPayload signPayload) {
    public static final int MIN_PART_SIZE = 5 * 1024 * 1024;
    public static final int MAX_PART_SIZE = 512 * 1024 * 1024;
    /** S3's limit for one PutObject. */
    public static final long MAX_SINGLE_PUT = 5L * 1024 * 1024 * 1024;
    private static final Set<String> SSE = Set.of("AES256", "aws:kms", "aws:kms:dsse");

    /**
     * {@code relay.target.s3.sign-payload}: whether SigV4 covers the body, not only the request's headers. Unset,
     * {@link #NEVER} while the store checks every body's SHA-256 ({@code checksum=sha256}), else {@link #AUTO}.
     */
    public enum SignPayload {
        /** The SDK's choice: signed over plain HTTP, unsigned over HTTPS (as on AWS). */
        AUTO,
        /** Unsigned over plain HTTP too: one SHA-256 pass fewer; the trailing checksum still guards the bytes. */
        NEVER;

        /** What an unset {@code sign-payload} means: a body goes unsigned only where the store checks its SHA-256. */
        static SignPayload byDefault(boolean sha256) {
            return sha256 ? NEVER : AUTO;
        }
    }

    /** With the default payload signing ({@link SignPayload#byDefault}). */
    public S3Settings(String bucket, String region, URI endpoint, boolean pathStyle, String accessKey,
                      String secretKey, String prefix, String sse, String kmsKeyId, String storageClass,
                      int partSize, int partBuffers, boolean sha256, long singlePutMax) {
        this(bucket, region, endpoint, pathStyle, accessKey, secretKey, prefix, sse, kmsKeyId, storageClass,
                partSize, partBuffers, sha256, singlePutMax, null);
    }

    public S3Settings {
        if (bucket == null || bucket.isBlank()) {
            throw new ConfigurationException("relay.target.s3.bucket is required for relay.target.kind=s3");
        }
        if ((accessKey == null) != (secretKey == null)) {
            throw new ConfigurationException("relay.target.s3.access-key and relay.target.s3.secret-key go together");
        }
        if (sse != null && !SSE.contains(sse)) {
            throw new ConfigurationException("relay.target.s3.sse '" + sse + "' is not one of " + SSE);
        }
        if (kmsKeyId != null && (sse == null || !sse.startsWith("aws:kms"))) {
            throw new ConfigurationException("relay.target.s3.kms-key-id needs relay.target.s3.sse=aws:kms");
        }
        if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
            throw new ConfigurationException("relay.target.s3.part-size must be between 5 MiB and 512 MiB, not "
                    + partSize + " bytes");
        }
        if (partBuffers < 2) {
            throw new ConfigurationException("relay.target.s3.part-buffers must be at least 2");
        }
        if (singlePutMax < 0 || singlePutMax > MAX_SINGLE_PUT) {
            throw new ConfigurationException("relay.target.s3.single-put-max must be between 0 and 5 GiB, not "
                    + singlePutMax + " bytes");
        }
        if (signPayload == null) {
            signPayload = SignPayload.byDefault(sha256);
        }
        prefix = normalisePrefix(prefix);
    }

    public static S3Settings from(RelayProperties props) {
        String checksum = props.get("relay.target.s3.checksum", "sha256").toLowerCase(Locale.ROOT);
        if (!List.of("sha256", "none").contains(checksum)) {
            throw new ConfigurationException("relay.target.s3.checksum must be sha256 or none, not '" + checksum + "'");
        }
        String signPayload = props.get("relay.target.s3.sign-payload",
                SignPayload.byDefault(checksum.equals("sha256")).name()).toLowerCase(Locale.ROOT);
        if (!List.of("auto", "never").contains(signPayload)) {
            throw new ConfigurationException("relay.target.s3.sign-payload must be auto or never, not '"
                    + signPayload + "'");
        }
        return new S3Settings(
                props.get("relay.target.s3.bucket", null),
                props.get("relay.target.s3.region", "us-east-1"),
                props.get("relay.target.s3.endpoint").map(URI::create).orElse(null),
                props.getBoolean("relay.target.s3.path-style", false),
                props.get("relay.target.s3.access-key", null),
                props.get("relay.target.s3.secret-key", null),
                props.get("relay.target.s3.prefix", ""),
                props.get("relay.target.s3.sse", null),
                props.get("relay.target.s3.kms-key-id", null),
                props.get("relay.target.s3.storage-class", null),
                (int) Math.min(Integer.MAX_VALUE,
                        bytes("relay.target.s3.part-size", props.get("relay.target.s3.part-size", "16MiB"))),
                props.getInt("relay.target.s3.part-buffers", 3),
                checksum.equals("sha256"),
                bytes("relay.target.s3.single-put-max", props.get("relay.target.s3.single-put-max", "5GiB")),
                SignPayload.valueOf(signPayload.toUpperCase(Locale.ROOT)));
    }

    /**
     * The S3 client: static keys when given, else the AWS default chain (environment, system properties,
     * web identity token for IRSA, profile, container and instance roles). Checksums are only added where
     * {@link S3Target} asks for them, so a store without flexible checksums works with {@code checksum=none}.
     */
    public S3ClientBuilder clientBuilder() {
        return clientBuilder(null);
    }

    /** The same, trusting what {@code tls} trusts (null: the JDK's default CAs). */
    public S3ClientBuilder clientBuilder(OutboundTls tls) {
        return clientBuilder(tls, false);
    }

    /**
     * The client for bodies streamed straight from the source in one PutObject: they cannot be read twice, so
     * they go aws-chunked (with {@code checksum=sha256} the SHA-256 in a trailer; over plain HTTP with
     * {@code sign-payload=auto} signed chunk by chunk as they are sent), and the SDK does not retry them (the
     * delivery is retried as a whole).
     */
    public S3ClientBuilder streamingClientBuilder(OutboundTls tls) {
        return clientBuilder(tls, true)
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .addExecutionInterceptor(new SentChecksum()));
    }

    private S3ClientBuilder clientBuilder(OutboundTls tls, boolean chunked) {
        ApacheHttpClient.Builder apache = ApacheHttpClient.builder()
                .maxConnections(Math.max(16, partBuffers * 2))
                .connectionTimeout(Duration.ofSeconds(10))
                .socketTimeout(Duration.ofMinutes(2));
        SdkHttpClient.Builder<?> http = apache;
        if (tls != null && tls.insecure()) {
            // the SDK's own switch: no certificate check and no host name check
            http = new TrustAllCertificates(apache);
        } else if (tls != null && tls.trustManagers() != null) {
            TrustManager[] trust = tls.trustManagers();
            apache.tlsTrustManagersProvider(() -> trust);
        }
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(region))
                .credentialsProvider(credentials())
                .forcePathStyle(pathStyle)
                // A buffered part is re-readable: plain Content-Length bodies, no aws-chunked framing (which
                // costs the sender and the store a signature per 128 KiB chunk).
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(chunked).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(http);
        if (signPayload == SignPayload.NEVER) {
            builder.putAuthScheme(UnsignedPayloadSigner.scheme());
        }
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder;
    }

    private record TrustAllCertificates(ApacheHttpClient.Builder apache)
            implements SdkHttpClient.Builder<TrustAllCertificates> {
        @Override
        public SdkHttpClient buildWithDefaults(AttributeMap serviceDefaults) {
            return apache.buildWithDefaults(AttributeMap.builder()
                    .put(SdkHttpConfigurationOption.TRUST_ALL_CERTIFICATES, true).build().merge(serviceDefaults));
        }
    }

    private AwsCredentialsProvider credentials() {
        return accessKey != null
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey))
                : DefaultCredentialsProvider.builder().build();
    }

    /** The object key of a relay key: the prefix, a '/', then the key. */
    public String objectKey(String key) {
        return prefix.isEmpty() ? key : prefix + "/" + key;
    }

    /** Values that must never be logged: for {@link TargetSecrets}. */
    public List<String> secrets() {
        return secretKey == null ? List.of() : List.of(secretKey);
    }

    /** A byte count: {@code 16777216}, {@code 16MiB}, {@code 16MB}, {@code 8192KiB}. */
    static long bytes(String key, String value) {
        Matcher m = Pattern.compile("(\\d+)\\s*([KMG]i?B?)?", Pattern.CASE_INSENSITIVE)
                .matcher(value.trim());
        if (!m.matches()) {
            throw new ConfigurationException(key + " must be a size such as 16MiB, not '" + value + "'");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT).substring(0, 1);
        long factor = switch (unit) {
            case "K" -> 1024L;
            case "M" -> 1024L * 1024;
            case "G" -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        if (n > Long.MAX_VALUE / factor) {
            throw new ConfigurationException(key + " '" + value + "' is too large");
        }
        return n * factor;
    }

    private static String normalisePrefix(String prefix) {
        String p = prefix == null ? "" : prefix.trim().replaceAll("^/+", "").replaceAll("/+$", "");
        for (String segment : p.split("/")) {
            if (segment.equals("..") || segment.equals(".") || (segment.isEmpty() && !p.isEmpty())) {
                throw new ConfigurationException("relay.target.s3.prefix '" + prefix + "' has an empty, '.' or '..' segment");
            }
        }
        return p;
    }

    @Override
    public String toString() {
        return "S3Settings[bucket=" + bucket + ", region=" + region + ", endpoint=" + endpoint + ", pathStyle="
                + pathStyle + ", credentials=" + (accessKey == null ? "default chain" : "static") + ", prefix="
                + prefix + ", sse=" + sse + ", storageClass=" + storageClass + ", partSize=" + partSize
                + ", partBuffers=" + partBuffers + ", checksum=" + (sha256 ? "sha256" : "none")
                + ", singlePutMax=" + singlePutMax + ", signPayload=" + signPayload.name().toLowerCase(Locale.ROOT) + "]";
    }
}
