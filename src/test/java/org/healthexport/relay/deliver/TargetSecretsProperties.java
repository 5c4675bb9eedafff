package org.healthexport.relay.deliver;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A target's secrets (a secret key, a password, a passphrase that may contain the password) put anywhere in an
 * error message and its causes: none is left after redaction.
 */
class TargetSecretsProperties {

    record Case(List<String> secrets, String message) { }

    @Provide
    Arbitrary<String> secret() {
        return Arbitraries.oneOf(Arbitraries.strings().all().ofMinLength(8).ofMaxLength(24),
                // few letters, some of REDACTED's: secrets that overlap each other and the marker
                Arbitraries.strings().withChars("REDACTx").ofMinLength(8).ofMaxLength(12))
                // a secret inside the word REDACTED cannot be told from the marker
                .filter(s -> !"REDACTED".contains(s));
    }

    @Provide
    Arbitrary<List<String>> secrets() {
        // a later secret may contain an earlier one, or a part of it (a passphrase built on the password)
        return secret().list().ofMinSize(1).ofMaxSize(3).flatMap(list -> Arbitraries.integers().between(0, 2)
                .map(mode -> {
                    List<String> all = new ArrayList<>(list);
                    if (mode == 1) {
                        all.add(0, list.get(0).substring(0, list.get(0).length() - 1));
                    } else if (mode == 2) {
                        all.add("x" + list.get(0) + "y");
                    }
                    return all.stream().filter(s -> s.length() >= 6 && !"REDACTED".contains(s)).toList();
                })).filter(l -> !l.isEmpty());
    }

    /** A message of text, secrets and pieces of secrets (a secret's tail right after it, and so on). */
    @Provide
    Arbitrary<Case> cases() {
        return secrets().flatMap(secrets -> {
            Arbitrary<String> secretOrPart = Arbitraries.of(secrets).flatMap(sec -> Arbitraries.integers()
                    .between(0, sec.length()).flatMap(i -> Arbitraries.of(sec, sec.substring(i), sec.substring(0, i))));
            Arbitrary<String> text = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(12),
                    Arbitraries.strings().withChars("REDACTx").ofMaxLength(6));
            return Arbitraries.oneOf(secretOrPart, text).list().ofMaxSize(8)
                    .map(parts -> new Case(secrets, String.join("", parts) + String.join("", secrets)));
        });
    }

    @Property(tries = 500)
    void noSecretIsLeftInTheMessage(@ForAll("cases") Case c) {
        String redacted = new TargetSecrets(c.secrets()).redact(c.message());
        for (String s : c.secrets()) {
            assertThat(redacted).as(c.message()).doesNotContain(s);
        }
    }

    @Property(tries = 200)
    void noSecretIsLeftInAnyCause(@ForAll("secrets") List<String> secrets, @ForAll String before,
                                  @ForAll String after) {
        Throwable error = null;
        for (String s : secrets) {
            error = new IllegalStateException(before + s + after, error);
        }
        IOException failure = new TargetSecrets(secrets).failure("upload of " + secrets.get(0), error);
        StringWriter text = new StringWriter();
        failure.printStackTrace(new PrintWriter(text));
        for (String s : secrets) {
            assertThat(text.toString()).doesNotContain(s);
        }
    }
}
