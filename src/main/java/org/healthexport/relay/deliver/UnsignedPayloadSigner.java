package org.healthexport.relay.deliver;

import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

import java.util.concurrent.CompletableFuture;

/**
 * SigV4 with the payload left unsigned ({@code relay.target.s3.sign-payload=never}), over plain HTTP too.
 *
 * <p>The SDK (2.41) signs every payload sent over plain HTTP and ignores {@code PAYLOAD_SIGNING_ENABLED=false}
 * there: for a streamed PUT that is one SHA-256 pass over the whole body, chunk by chunk, on the sending thread.
 * Its rule is keyed on the request's scheme only, and the scheme is not part of what SigV4 signs (method, path,
 * query, signed headers, payload hash), so this signer lets the SDK's own signer see the request as HTTPS with
 * the Host header of the real HTTP request fixed in advance, then gives the signed request its scheme back. The
 * headers, the signature and the body framing are the SDK's own: {@code UNSIGNED-PAYLOAD}, or
 * {@code STREAMING-UNSIGNED-PAYLOAD-TRAILER} with the trailing {@code x-amz-checksum-sha256} that the store checks
 * against the bytes it received. What is given up is only the signature over bytes that travel in clear anyway.
 */
final class UnsignedPayloadSigner implements HttpSigner<AwsCredentialsIdentity> {
    private final AwsV4HttpSigner v4 = AwsV4HttpSigner.create();

    /** The SigV4 auth scheme with this signer, for {@code S3ClientBuilder.putAuthScheme}. */
    static AuthScheme<AwsCredentialsIdentity> scheme() {
        UnsignedPayloadSigner signer = new UnsignedPayloadSigner();
        return new AuthScheme<>() {
            @Override
            public String schemeId() {
                return AwsV4AuthScheme.SCHEME_ID;
            }

            @Override
            public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
                return providers.identityProvider(AwsCredentialsIdentity.class);
            }

            @Override
            public HttpSigner<AwsCredentialsIdentity> signer() {
                return signer;
            }
        };
    }

    @Override
    public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
        SdkHttpRequest http = request.request();
        if ("https".equals(http.protocol())) {
            return v4.sign(request.copy(r -> r.putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)));
        }
        SdkHttpRequest seenAsHttps = http.toBuilder()
                .putHeader("Host", hostHeader(http))
                .protocol("https").port(http.port())
                .build();
        SignedRequest signed = v4.sign(request.copy(r -> r.request(seenAsHttps)
                .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)));
        SdkHttpRequest asSent = signed.request().toBuilder().protocol(http.protocol()).port(http.port()).build();
        return signed.copy(r -> r.request(asSent));
    }

    @Override
    public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
        // the relay's S3 clients are synchronous
        return v4.signAsync(request);
    }

    /** The Host header as the HTTP client sends it for {@code http} (the port only when not the scheme's default). */
    private static String hostHeader(SdkHttpRequest http) {
        return http.firstMatchingHeader("Host").orElseGet(() ->
                SdkHttpUtils.isUsingStandardPort(http.protocol(), http.port()) ? http.host()
                        : http.host() + ":" + http.port());
    }
}
