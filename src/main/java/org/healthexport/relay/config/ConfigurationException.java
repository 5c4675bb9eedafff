package org.healthexport.relay.config;

/** A setting is missing or wrong; raised at startup so a bad configuration never starts half a relay. */
public class ConfigurationException extends RuntimeException {
    public ConfigurationException(String message) {
        super(message);
    }
}
