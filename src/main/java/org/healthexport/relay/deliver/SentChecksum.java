package org.healthexport.relay.deliver;

import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkInternalExecutionAttribute;
import software.amazon.awssdk.http.auth.spi.signer.PayloadChecksumStore;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The SHA-256 the SDK computed while it streamed a PutObject and sent as the object's trailing checksum
 * ({@code x-amz-checksum-sha256}), handed back to the relay for the receipt, so the bytes are hashed once and not
 * twice. The SDK keeps the value in its checksum store (for retries); this interceptor copies it into a holder
 * that the request carries ({@link #HOLDER}). The store is the SDK's protected API, not its public one: S3TargetTest
 * holds the value to the bytes, and {@link S3Target} hashes the stored object when no value comes back.
 */
final class SentChecksum implements ExecutionInterceptor {
    /** Put on a request (its override configuration) to receive the SHA-256 sent with it. */
    static final ExecutionAttribute<AtomicReference<byte[]>> HOLDER = new ExecutionAttribute<>("relay.sentSha256");

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        AtomicReference<byte[]> holder = attributes.getAttribute(HOLDER);
        PayloadChecksumStore store = attributes.getAttribute(SdkInternalExecutionAttribute.CHECKSUM_STORE);
        if (holder != null && store != null) {
            holder.set(store.getChecksumValue(DefaultChecksumAlgorithm.SHA256));
        }
    }
}
