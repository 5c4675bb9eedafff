package org.healthexport.relay.deliver;

import org.healthexport.relay.config.ConfigurationException;
import org.healthexport.relay.config.RelayProperties;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code relay.target.sftp.*}: the server, the login (password or private key) and the host keys it must
 * present. The password and passphrase are kept out of {@link #toString()}.
 */
public record SftpSettings(String host, int port, String username, String password, Path privateKeyFile,
                           String privateKeyPassphrase, Path knownHostsFile, boolean strictHostKeyChecking,
                           String dir, Duration connectTimeout) {

    public SftpSettings {
        if (host == null || host.isBlank()) {
            throw new ConfigurationException("relay.target.sftp.host is required for relay.target.kind=sftp");
        }
        if (username == null || username.isBlank()) {
            throw new ConfigurationException("relay.target.sftp.username is required for relay.target.kind=sftp");
        }
        if (password == null && privateKeyFile == null) {
            throw new ConfigurationException("relay.target.sftp.password or relay.target.sftp.private-key-file is required");
        }
        if (privateKeyFile != null && !Files.isReadable(privateKeyFile)) {
            throw new ConfigurationException("relay.target.sftp.private-key-file " + privateKeyFile + " cannot be read");
        }
        if (strictHostKeyChecking && (knownHostsFile == null || !Files.isReadable(knownHostsFile))) {
            throw new ConfigurationException("relay.target.sftp.known-hosts-file (" + knownHostsFile + ") cannot be"
                    + " read: strict host key checking needs the server's key; add its line (ssh-keyscan -p PORT HOST)");
        }
        dir = dir == null ? "" : dir.trim();
        if (dir.length() > 1 && dir.endsWith("/")) {
            dir = dir.replaceAll("/+$", "");
        }
    }

    public static SftpSettings from(RelayProperties props) {
        Path defaultKnownHosts = Path.of(System.getProperty("user.home"), ".ssh", "known_hosts");
        return new SftpSettings(
                props.get("relay.target.sftp.host", null),
                props.getInt("relay.target.sftp.port", 22),
                props.get("relay.target.sftp.username", null),
                props.get("relay.target.sftp.password", null),
                props.get("relay.target.sftp.private-key-file").map(Path::of).orElse(null),
                props.get("relay.target.sftp.private-key-passphrase", null),
                props.get("relay.target.sftp.known-hosts-file").map(Path::of).orElse(defaultKnownHosts),
                props.getBoolean("relay.target.sftp.strict-host-key-checking", true),
                props.get("relay.target.sftp.dir", ""),
                props.getDuration("relay.target.sftp.connect-timeout", Duration.ofSeconds(10)));
    }

    /** The remote path of a relay key: under {@code dir} (absolute, or relative to the login folder). */
    public String remotePath(String key) {
        if (dir.isEmpty()) {
            return key;
        }
        return dir.equals("/") ? "/" + key : dir + "/" + key;
    }

    public List<String> secrets() {
        List<String> secrets = new ArrayList<>();
        if (password != null) {
            secrets.add(password);
        }
        if (privateKeyPassphrase != null) {
            secrets.add(privateKeyPassphrase);
        }
        return secrets;
    }

    @Override
    public String toString() {
        return "SftpSettings[" + username + "@" + host + ":" + port + ", dir=" + dir + ", login="
                + (privateKeyFile != null ? "key " + privateKeyFile : "password") + ", knownHosts=" + knownHostsFile
                + ", strictHostKeyChecking=" + strictHostKeyChecking + ", connectTimeout=" + connectTimeout + "]";
    }
}
