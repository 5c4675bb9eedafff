package org.healthexport.relay.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.healthexport.relay.config.ConfigurationException;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.UUID;

/**
 * Signs the client assertion JWT of SMART Backend Services with Nimbus: {@code iss = sub = client_id},
 * {@code aud} = token URL, a unique {@code jti}, at most five minutes of life, {@code kid} in the header.
 */
public final class ClientAssertion {
    private static final Duration LIFETIME = Duration.ofMinutes(4);
    private final String clientId;
    private final String keyId;
    private final JWSAlgorithm algorithm;
    private final JWSSigner signer;
    private final Clock clock;

    public ClientAssertion(String clientId, String keyId, JWSAlgorithm algorithm, JWSSigner signer, Clock clock) {
        if (keyId == null || keyId.isBlank()) {
            throw new ConfigurationException("A signed client assertion needs a key id (kid)");
        }
        this.clientId = clientId;
        this.keyId = keyId;
        this.algorithm = algorithm;
        this.signer = signer;
        this.clock = clock;
    }

    /**
     * Loads the key from a file: a JWK or JWK Set (JSON), or an unencrypted PKCS#8 PEM. The algorithm follows the
     * key type unless given: RS384 for RSA, ES384 for EC.
     */
    public static ClientAssertion fromKeyFile(String clientId, String keyId, String algorithm, Path keyFile,
                                              Clock clock) {
        try {
            String text = Files.readString(keyFile).trim();
            PrivateKey key;
            String kid = keyId;
            if (text.startsWith("{")) {
                JWK jwk = text.contains("\"keys\"") ? JWKSet.parse(text).getKeys().get(0) : JWK.parse(text);
                kid = kid == null || kid.isBlank() ? jwk.getKeyID() : kid;
                key = jwk instanceof RSAKey rsa ? rsa.toPrivateKey() : ((ECKey) jwk).toPrivateKey();
            } else {
                key = readPkcs8(text);
            }
            JWSAlgorithm alg = algorithm != null && !algorithm.isBlank() ? JWSAlgorithm.parse(algorithm)
                    : key instanceof RSAPrivateKey ? JWSAlgorithm.RS384 : JWSAlgorithm.ES384;
            JWSSigner signer = key instanceof ECPrivateKey ec ? new ECDSASigner(ec) : new RSASSASigner(key);
            return new ClientAssertion(clientId, kid, alg, signer, clock);
        } catch (IOException | ParseException | JOSEException | GeneralSecurityException e) {
            // The file name is safe to show; its content is not.
            throw new ConfigurationException("Cannot read the private key in " + keyFile + ": " + e.getClass().getSimpleName());
        }
    }

    private static PrivateKey readPkcs8(String pem) throws GeneralSecurityException {
        if (!pem.contains("BEGIN PRIVATE KEY")) {
            throw new InvalidKeySpecException("expected a PKCS#8 'BEGIN PRIVATE KEY' PEM");
        }
        String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64));
        try {
            return KeyFactory.getInstance("RSA").generatePrivate(spec);
        } catch (InvalidKeySpecException notRsa) {
            return KeyFactory.getInstance("EC").generatePrivate(spec);
        }
    }

    public String sign(URI tokenUrl) {
        Date now = Date.from(clock.instant());
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(clientId).subject(clientId).audience(tokenUrl.toString())
                .issueTime(now).expirationTime(Date.from(clock.instant().plus(LIFETIME)))
                .jwtID(UUID.randomUUID().toString()).build();
        JWSHeader header = new JWSHeader.Builder(algorithm).keyID(keyId).type(JOSEObjectType.JWT).build();
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new AuthException("Cannot sign the client assertion for " + clientId, true, e);
        }
        return jwt.serialize();
    }

    @Override
    public String toString() {
        return "ClientAssertion[" + clientId + ", kid=" + keyId + ", " + algorithm + "]";
    }
}
