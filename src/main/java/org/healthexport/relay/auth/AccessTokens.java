package org.healthexport.relay.auth;

import java.util.Optional;

/** Bearer tokens for one source: cached, renewed ahead of expiry, fetched again after a 401. */
public interface AccessTokens {

    /** A current token; empty when the source needs none. */
    Optional<String> current();

    /** Forgets the cached token (the server answered 401); the next {@link #current()} fetches a new one. */
    void invalidate();

    AccessTokens NONE = new AccessTokens() {
        @Override
        public Optional<String> current() {
            return Optional.empty();
        }

        @Override
        public void invalidate() {
        }
    };

    static AccessTokens fixed(String token) {
        return new AccessTokens() {
            @Override
            public Optional<String> current() {
                return Optional.of(token);
            }

            @Override
            public void invalidate() {
                // a configured token cannot be renewed; the caller counts the 401
            }
        };
    }
}
