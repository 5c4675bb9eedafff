package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.core.JsonGenerator;
import org.healthexport.relay.deliver.KeyLayout;
import org.healthexport.relay.source.fhir.MalformedStatusException;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Turns the pages of a FHIR searchset Bundle ({@code $everything}) into NDJSON, one spool file per resource
 * type, without holding a page in memory: each page is read as a token stream, one entry at a time, and each
 * entry's resource is written as one line of its type's file. A resource seen on an earlier page (offset paging
 * over changing data) is written once. Numbers keep their exact text ({@code 7.20} stays {@code 7.20}).
 */
public class BundlePages implements Closeable {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
            .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
            .disable(SerializationFeature.INDENT_OUTPUT);
    private static final JsonFactory FACTORY = JSON.getFactory();

    private final Path dir;
    private final Map<String, Spool> spools = new LinkedHashMap<>();
    private final Set<String> seen = new HashSet<>();
    private int pages;
    private long entries;
    private long duplicates;
    private long withoutResource;

    /** What one page said about paging. */
    public record Page(int entries, Long total, String nextUrl) { }

    /** One resource type's NDJSON spool. */
    public static final class Spool {
        final Path file;
        final OutputStream out;
        long resources;

        Spool(Path file) throws IOException {
            this.file = file;
            this.out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
        }

        public Path file() {
            return file;
        }

        public long resources() {
            return resources;
        }
    }

    public BundlePages(Path dir) {
        this.dir = dir;
    }

    /** Reads one page and appends its resources to their spools. */
    public Page read(InputStream body) throws IOException {
        int count = 0;
        Long total = null;
        String next = null;
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedStatusException("$everything page is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "resourceType" -> {
                        if (!"Bundle".equals(p.getText())) {
                            throw new MalformedStatusException("$everything page is a " + p.getText()
                                    + ", not a Bundle");
                        }
                    }
                    case "total" -> total = value.isNumeric() ? p.getLongValue() : null;
                    case "link" -> next = nextLink(JSON.readTree(p), next);
                    case "entry" -> {
                        if (value != JsonToken.START_ARRAY) {
                            p.skipChildren();
                            continue;
                        }
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            JsonNode entry = JSON.readTree(p);
                            count++;
                            write(entry.get("resource"));
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        } catch (JsonProcessingException e) {
            throw new MalformedStatusException("$everything page is not valid JSON: " + e.getOriginalMessage());
        }
        pages++;
        entries += count;
        return new Page(count, total, next);
    }

    private static String nextLink(JsonNode links, String current) {
        if (links != null && links.isArray()) {
            for (JsonNode l : links) {
                if ("next".equals(l.path("relation").asText()) && l.path("url").isTextual()) {
                    return l.path("url").asText();
                }
            }
        }
        return current;
    }

    private void write(JsonNode resource) throws IOException {
        if (resource == null || !resource.isObject() || !resource.path("resourceType").isTextual()) {
            withoutResource++;
            return;
        }
        String type = KeyLayout.segment(resource.path("resourceType").asText());
        JsonNode id = resource.get("id");
        if (id != null && id.isTextual() && !seen.add(type + "/" + id.asText())) {
            duplicates++;
            return;
        }
        Spool spool = spools.get(type);
        if (spool == null) {
            spool = new Spool(Files.createTempFile(dir, type + "-", ".ndjson"));
            spools.put(type, spool);
        }
        spool.out.write(JSON.writeValueAsBytes(resource));
        spool.out.write('\n');
        spool.resources++;
    }

    /** An empty spool for a type (a type an earlier attempt delivered and this pull no longer has). */
    public Spool empty(String type) throws IOException {
        Spool spool = spools.get(type);
        if (spool == null) {
            spool = new Spool(Files.createTempFile(dir, KeyLayout.segment(type) + "-", ".ndjson"));
            spools.put(type, spool);
        }
        return spool;
    }

    /** Flushes every spool; call after the last page, before reading them. */
    public Map<String, Spool> finish() throws IOException {
        for (Spool s : spools.values()) {
            s.out.flush();
        }
        return spools;
    }

    public int pages() {
        return pages;
    }

    public long entries() {
        return entries;
    }

    public long duplicates() {
        return duplicates;
    }

    public long withoutResource() {
        return withoutResource;
    }

    /** Resources written per type, in the order the types first appeared. */
    public Map<String, Long> counts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        spools.forEach((type, s) -> counts.put(type, s.resources));
        return counts;
    }

    @Override
    public void close() throws IOException {
        for (Spool s : spools.values()) {
            try {
                s.out.close();
            } finally {
                Files.deleteIfExists(s.file);
            }
        }
    }
}
