package org.healthexport.relay.sandbox;

import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.security.Key;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks a private_key_jwt client assertion the way SMART Backend Services token endpoints do: a registered key
 * picked by {@code kid}, a valid RS384/ES384 signature, {@code iss = sub}, {@code aud} = the token URL, an
 * {@code exp} in the future and at most five minutes ahead, a {@code jti} not seen before. Used by the sandboxes.
 */
public final class SandboxJwt {
    /** Keys by client id, then by kid. */
    private final Map<String, Map<String, JWK>> keys = new ConcurrentHashMap<>();
    private final Set<String> seenJti = ConcurrentHashMap.newKeySet();

    /** The outcome: the client id when valid, else an error code and description as the vendor words them. */
    public record Result(String clientId, String error, String description) {
        public boolean ok() {
            return clientId != null;
        }
    }

    public void register(String clientId, JWK publicKey) {
        keys.computeIfAbsent(clientId, k -> new ConcurrentHashMap<>()).put(publicKey.getKeyID(), publicKey);
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    /**
     * @param missingKid the vendor's text for an assertion without kid
     * @param unknownKey the vendor's text for a kid/client pair it has no key for
     */
    public Result check(String assertion, String audience, String missingKid, String unknownKey) {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(assertion);
            claims = jwt.getJWTClaimsSet();
        } catch (Exception e) {
            return new Result(null, "invalid_client", "client_assertion is not a signed JWT");
        }
        String kid = jwt.getHeader().getKeyID();
        if (kid == null || kid.isBlank()) {
            return new Result(null, "invalid_client", missingKid);
        }
        String iss = claims.getIssuer();
        JWK key = iss == null ? null : keys.getOrDefault(iss, Map.of()).get(kid);
        if (key == null) {
            return new Result(null, "invalid_client", unknownKey);
        }
        if (!iss.equals(claims.getSubject())) {
            return new Result(null, "invalid_client", "iss and sub must both be the client id");
        }
        if (claims.getAudience() == null || !claims.getAudience().contains(audience)) {
            return new Result(null, "invalid_client", "aud must be " + audience);
        }
        Instant now = Instant.now();
        if (claims.getExpirationTime() == null || claims.getExpirationTime().toInstant().isBefore(now)
                || claims.getExpirationTime().toInstant().isAfter(now.plus(Duration.ofMinutes(5)).plusSeconds(30))) {
            return new Result(null, "invalid_client", "exp must be in the next five minutes");
        }
        try {
            Key publicKey = key.getKeyType().getValue().equals("RSA") ? key.toRSAKey().toPublicKey()
                    : key.toECKey().toPublicKey();
            JWSVerifier verifier = new DefaultJWSVerifierFactory().createJWSVerifier(jwt.getHeader(), publicKey);
            if (!jwt.verify(verifier)) {
                return new Result(null, "invalid_client", "Signature verification failed");
            }
        } catch (Exception e) {
            return new Result(null, "invalid_client", "Signature verification failed");
        }
        if (claims.getJWTID() == null || !seenJti.add(iss + " " + claims.getJWTID())) {
            return new Result(null, "invalid_client", "jti missing or already used");
        }
        return new Result(iss, null, null);
    }
}
