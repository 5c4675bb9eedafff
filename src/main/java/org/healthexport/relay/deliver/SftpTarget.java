package org.healthexport.relay.deliver;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Delivers to an SFTP server with JSch (the SSH library camel-ftp uses) rather than through Camel's sftp
 * producer: the target is called from a bean with a stream, and JSch's {@code put} output stream takes it
 * as it is read, with pipelined writes and no buffering; a failure to read the source surfaces as the
 * source's own exception (the job lifecycle tells an expired link from an outage), a failure to write as an
 * IOException; and the login stays out of any endpoint URI that Camel could log.
 *
 * <p>A file is written under a hidden temporary name beside its final one ({@code .<name>.part}, the same name
 * on a retry, so a leftover is overwritten) and then renamed over the final name ({@code posix-rename@openssh.com}
 * where the server has it, as OpenSSH does; else the old file is removed just before the rename). Folders are
 * created as needed. One SSH session is shared by every delivery, one SFTP channel per file; a dropped session
 * is replaced on the next file.
 */
public class SftpTarget implements DeliveryTarget {
    private static final Logger LOG = LoggerFactory.getLogger(SftpTarget.class);
    private final SftpSettings settings;
    private final TargetSecrets secrets;
    private Session session;

    public SftpTarget(SftpSettings settings) {
        this.settings = settings;
        this.secrets = new TargetSecrets(settings.secrets());
        if (!settings.strictHostKeyChecking()) {
            LOG.warn("relay.target.sftp.strict-host-key-checking is off: the server at {}:{} is not authenticated,"
                    + " anyone on the path can receive the delivered files", settings.host(), settings.port());
        }
        LOG.info("Delivering to {}", settings);
    }

    @Override
    public String kind() {
        return "sftp";
    }

    @Override
    public void put(String key, InputStream content, long length, String contentType) throws IOException {
        String path = settings.remotePath(key);
        int slash = path.lastIndexOf('/');
        String folder = slash < 0 ? "" : path.substring(0, slash);
        String temp = (slash < 0 ? "" : folder + "/") + "." + path.substring(slash + 1) + ".part";
        ChannelSftp sftp = open();
        try {
            makeFolders(sftp, folder);
            try (OutputStream out = sftp.put(temp, ChannelSftp.OVERWRITE)) {
                byte[] buffer = new byte[64 * 1024];
                for (int n; (n = content.read(buffer)) >= 0; ) {
                    write(out, buffer, n, path);
                }
            }
            replace(sftp, temp, path);
        } catch (SftpException e) {
            removeQuietly(sftp, temp);
            throw secrets.failure("SFTP upload of " + locate(key), e);
        } catch (IOException | RuntimeException e) {
            removeQuietly(sftp, temp);
            throw e;
        } finally {
            sftp.disconnect();
        }
    }

    /** Writes to the server; its failure is the target's, told apart from a failure to read the source. */
    private void write(OutputStream out, byte[] buffer, int n, String path) throws IOException {
        try {
            out.write(buffer, 0, n);
        } catch (IOException e) {
            throw secrets.failure("SFTP upload of " + path + " on " + settings.host(), e);
        }
    }

    private void replace(ChannelSftp sftp, String temp, String path) throws SftpException {
        try {
            sftp.rename(temp, path);
        } catch (SftpException e) {
            // plain SFTP v3 rename refuses an existing target: remove it, then rename
            if (e.id == ChannelSftp.SSH_FX_FAILURE && exists(sftp, path)) {
                sftp.rm(path);
                sftp.rename(temp, path);
            } else {
                throw e;
            }
        }
    }

    private static void makeFolders(ChannelSftp sftp, String folder) throws SftpException {
        if (folder.isEmpty() || exists(sftp, folder)) {
            return;
        }
        StringBuilder current = new StringBuilder(folder.startsWith("/") ? "/" : "");
        for (String segment : folder.split("/")) {
            if (segment.isEmpty()) {
                continue;
            }
            current.append(current.length() == 0 || current.charAt(current.length() - 1) == '/' ? "" : "/")
                    .append(segment);
            String dir = current.toString();
            if (!exists(sftp, dir)) {
                try {
                    sftp.mkdir(dir);
                } catch (SftpException e) {
                    if (!exists(sftp, dir)) { // another delivery may have just made it
                        throw e;
                    }
                }
            }
        }
    }

    private static boolean exists(ChannelSftp sftp, String path) throws SftpException {
        try {
            sftp.stat(path);
            return true;
        } catch (SftpException e) {
            if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                return false;
            }
            throw e;
        }
    }

    private static void removeQuietly(ChannelSftp sftp, String temp) {
        try {
            if (sftp.isConnected()) {
                sftp.rm(temp);
            }
        } catch (SftpException e) {
            // gone already, or the connection is: a retry overwrites the same temporary name
        }
    }

    /** A login (host key included) and the delivery folder looked up; the first check also opens the session. */
    @Override
    public String check() throws IOException {
        String path = settings.remotePath(""); // "dir/", or "/" for the root, or "" for the login folder
        String dir = path.length() > 1 ? path.substring(0, path.length() - 1) : path;
        ChannelSftp sftp = open();
        try {
            String folder = dir.isEmpty() ? "the login folder"
                    : dir + (exists(sftp, dir) ? " exists" : " is made by the first delivery");
            return "SFTP server " + settings.username() + "@" + settings.host() + ":" + settings.port()
                    + " took the login, " + folder;
        } catch (SftpException e) {
            throw secrets.failure("SFTP check of " + locate(""), e);
        } finally {
            sftp.disconnect();
        }
    }

    @Override
    public boolean exists(String key) throws IOException {
        ChannelSftp sftp = open();
        try {
            return exists(sftp, settings.remotePath(key));
        } catch (SftpException e) {
            throw secrets.failure("SFTP lookup of " + locate(key), e);
        } finally {
            sftp.disconnect();
        }
    }

    @Override
    public String locate(String key) {
        String path = settings.remotePath(key);
        return "sftp://" + settings.username() + "@" + settings.host() + ":" + settings.port()
                + (path.startsWith("/") ? "" : "/~/") + path;
    }

    /** An SFTP channel on the shared session; a session found dead (server restarted) is replaced once. */
    private ChannelSftp open() throws IOException {
        for (int attempt = 1; ; attempt++) {
            Session current = null;
            try {
                current = session();
                ChannelSftp sftp = (ChannelSftp) current.openChannel("sftp");
                sftp.connect(timeoutMillis());
                return sftp;
            } catch (JSchException e) {
                drop(current);
                if (attempt == 2) {
                    throw secrets.failure("SFTP connection to " + settings.host() + ":" + settings.port(), e);
                }
            }
        }
    }

    private synchronized Session session() throws JSchException {
        if (session == null || !session.isConnected()) {
            drop(session);
            session = connect();
        }
        return session;
    }

    private synchronized void drop(Session dead) {
        if (dead != null) {
            dead.disconnect();
            if (session == dead) {
                session = null;
            }
        }
    }

    private Session connect() throws JSchException {
        JSch jsch = new JSch();
        if (settings.strictHostKeyChecking()) {
            jsch.setKnownHosts(settings.knownHostsFile().toString()); // read again on each connect
        }
        if (settings.privateKeyFile() != null) {
            jsch.addIdentity(settings.privateKeyFile().toString(), settings.privateKeyPassphrase());
        }
        Session s = jsch.getSession(settings.username(), settings.host(), settings.port());
        if (settings.password() != null) {
            s.setPassword(settings.password());
        }
        s.setConfig("StrictHostKeyChecking", settings.strictHostKeyChecking() ? "yes" : "no");
        s.setConfig("PreferredAuthentications", "publickey,keyboard-interactive,password");
        s.setDaemonThread(true);
        s.setServerAliveInterval(15_000);
        s.setServerAliveCountMax(3);
        s.connect(timeoutMillis());
        LOG.info("SFTP session to {}@{}:{} open", settings.username(), settings.host(), settings.port());
        return s;
    }

    private int timeoutMillis() {
        return Math.toIntExact(settings.connectTimeout().toMillis());
    }
}
