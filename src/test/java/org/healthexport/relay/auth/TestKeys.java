package org.healthexport.relay.auth;

import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;

import java.nio.file.Files;
import java.nio.file.Path;

/** Signing keys for tests: a fresh RSA key whose private JWK is written where a source's key file points. */
public final class TestKeys {
    private TestKeys() {
    }

    /** Generates an RSA key with {@code kid} and writes its JWK (private part included) to {@code file}. */
    public static RSAKey rsaKeyFile(String file, String kid) {
        try {
            RSAKey key = new RSAKeyGenerator(2048).keyID(kid).generate();
            Path path = Path.of(file);
            Files.createDirectories(path.toAbsolutePath().getParent());
            Files.writeString(path, key.toJSONString());
            return key;
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
