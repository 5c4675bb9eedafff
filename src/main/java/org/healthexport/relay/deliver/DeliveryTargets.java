package org.healthexport.relay.deliver;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;
import org.healthexport.relay.http.OutboundTls;

import java.io.IOException;
import java.nio.file.Path;

/** Builds the configured target ({@code relay.target.kind}): file, s3 or sftp. */
public final class DeliveryTargets {
    private DeliveryTargets() {
    }

    public static DeliveryTarget create(RelayProperties props) throws IOException {
        return create(props, null);
    }

    /** {@code tls}: the trust of the S3 client (null: the JDK's default CAs). */
    public static DeliveryTarget create(RelayProperties props, OutboundTls tls) throws IOException {
        String kind = props.get("relay.target.kind", "file");
        return switch (kind) {
            case "file" -> new FolderTarget(Path.of(props.get("relay.target.file.dir", "./data/outbox")),
                    props.getBoolean("relay.target.file.sync", true));
            case "s3" -> S3Target.create(S3Settings.from(props), tls);
            case "sftp" -> new SftpTarget(SftpSettings.from(props));
            default -> throw new ConfigurationException("relay.target.kind '" + kind + "' is not one of file, s3, sftp");
        };
    }
}
