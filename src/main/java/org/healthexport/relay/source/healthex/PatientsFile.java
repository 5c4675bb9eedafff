package org.healthexport.relay.source.healthex;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.healthexport.relay.config.ConfigurationException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The patients of a HealthEx source ({@code relay.sources.<id>.patients-file}), JSON or CSV:
 * <pre>
 * {"patients": [
 *   {"healthexPatientId": "17d4513f-73e8", "externalId": "study-0001",
 *    "email": "test-patient+abc@example.org", "passwordFile": "secrets/study-0001.password"},
 *   {"healthexPatientId": "0b1c2d3e-4f50", "externalId": "study-0002"}
 * ]}
 * </pre>
 * (a bare array works too), or a CSV with a header row naming the same columns:
 * <pre>
 * healthexPatientId,externalId,email,password,passwordFile
 * 17d4513f-73e8,study-0001,test-patient+abc@example.org,,secrets/study-0001.password
 * 0b1c2d3e-4f50,study-0002,,,
 * </pre>
 * Only {@code healthexPatientId} is required ({@code patientId} and {@code referenceId} are accepted for it).
 * A relative {@code passwordFile} is resolved against the patients file's folder. Lines starting with '#' and
 * blank lines of a CSV are skipped; fields may be double-quoted. The file is read again when it changes, so
 * patients are added without a restart. Errors name the line or entry and the patient id, never a password.
 */
public class PatientsFile {
    static final Pattern PATIENT_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ID_NAMES = Set.of("healthexpatientid", "patientid", "referenceid");

    private final String sourceId;
    private final Path file;
    private FileTime loadedModified;
    private long loadedSize = -1;
    private Map<String, HealthexPatient> patients = Map.of();

    public PatientsFile(String sourceId, Path file) {
        this.sourceId = sourceId;
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** The patients, in file order; the file is read again if it changed since the last call. */
    public synchronized List<HealthexPatient> patients() {
        reloadIfChanged();
        return List.copyOf(patients.values());
    }

    public synchronized Optional<HealthexPatient> find(String healthexPatientId) {
        reloadIfChanged();
        return Optional.ofNullable(patients.get(healthexPatientId));
    }

    private void reloadIfChanged() {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            long size = Files.size(file);
            if (modified.equals(loadedModified) && size == loadedSize) {
                return;
            }
            patients = parse(sourceId, file, Files.readString(file, StandardCharsets.UTF_8));
            loadedModified = modified;
            loadedSize = size;
        } catch (IOException e) {
            throw new ConfigurationException("Source " + sourceId + ": cannot read patients-file " + file + " ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    static Map<String, HealthexPatient> parse(String sourceId, Path file, String text) {
        String trimmed = text.stripLeading();
        if (trimmed.startsWith("\uFEFF")) {
            trimmed = trimmed.substring(1).stripLeading();
        }
        List<Map<String, String>> rows = trimmed.startsWith("{") || trimmed.startsWith("[")
                ? jsonRows(sourceId, file, trimmed) : csvRows(sourceId, file, trimmed);
        Map<String, HealthexPatient> byId = new LinkedHashMap<>();
        Path folder = file.toAbsolutePath().getParent();
        for (int i = 0; i < rows.size(); i++) {
            Map<String, String> row = rows.get(i);
            String where = "Source " + sourceId + ": patients-file " + file + " " + row.getOrDefault("#where",
                    "entry " + (i + 1));
            String id = row.get("healthexpatientid");
            if (id == null || id.isBlank()) {
                throw new ConfigurationException(where + " has no healthexPatientId");
            }
            id = id.trim();
            if (!PATIENT_ID.matcher(id).matches()) {
                throw new ConfigurationException(where + ": healthexPatientId must be letters, digits, '.', '_', "
                        + "':' or '-'");
            }
            String passwordFile = row.get("passwordfile");
            HealthexPatient patient = new HealthexPatient(id, row.get("externalid"), row.get("email"),
                    row.get("password"), passwordFile == null || passwordFile.isBlank() ? null
                    : folder.resolve(passwordFile.trim()).normalize());
            boolean hasPassword = patient.password() != null || patient.passwordFile() != null;
            if (patient.email() != null && !hasPassword) {
                throw new ConfigurationException(where + " (patient " + id + ") has an email but no password "
                        + "or passwordFile");
            }
            if (patient.email() == null && hasPassword) {
                throw new ConfigurationException(where + " (patient " + id + ") has a password but no email");
            }
            if (byId.put(id, patient) != null) {
                throw new ConfigurationException(where + ": patient " + id + " is listed twice");
            }
        }
        return byId;
    }

    private static List<Map<String, String>> jsonRows(String sourceId, Path file, String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new ConfigurationException("Source " + sourceId + ": patients-file " + file + " is not valid JSON"
                    + " (line " + (e instanceof JsonProcessingException p
                    && p.getLocation() != null ? p.getLocation().getLineNr() : -1) + ")");
        }
        JsonNode list = root.isArray() ? root : root.path("patients");
        if (!list.isArray()) {
            throw new ConfigurationException("Source " + sourceId + ": patients-file " + file
                    + " must be a JSON array of patients or an object with a \"patients\" array");
        }
        List<Map<String, String>> rows = new ArrayList<>();
        for (JsonNode entry : list) {
            Map<String, String> row = new LinkedHashMap<>();
            entry.fields().forEachRemaining(f -> {
                if (f.getValue().isValueNode() && !f.getValue().isNull()) {
                    row.put(column(f.getKey()), f.getValue().asText());
                }
            });
            rows.add(row);
        }
        return rows;
    }

    private static List<Map<String, String>> csvRows(String sourceId, Path file, String text) {
        List<Map<String, String>> rows = new ArrayList<>();
        List<String> header = null;
        String[] lines = text.split("\r?\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            List<String> fields = csvFields(line);
            if (header == null) {
                header = fields.stream().map(PatientsFile::column).toList();
                if (!header.contains("healthexpatientid")) {
                    throw new ConfigurationException("Source " + sourceId + ": patients-file " + file
                            + " must start with a header row naming healthexPatientId (and externalId, email, "
                            + "password, passwordFile)");
                }
                continue;
            }
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < header.size() && i < fields.size(); i++) {
                row.put(header.get(i), fields.get(i));
            }
            row.put("#where", "line " + (n + 1));
            rows.add(row);
        }
        return rows;
    }

    /** Column names compared without case, '-' or '_'; the id's aliases folded into one. */
    static String column(String name) {
        String c = name.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return ID_NAMES.contains(c) ? "healthexpatientid" : c;
    }

    static List<String> csvFields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"' && !wasQuoted && cur.toString().isBlank()) {
                cur.setLength(0);
                quoted = true;
                wasQuoted = true;
            } else if (c == ',') {
                fields.add(wasQuoted ? cur.toString() : cur.toString().trim());
                cur.setLength(0);
                wasQuoted = false;
            } else if (!wasQuoted) {
                cur.append(c);
            }
        }
        fields.add(wasQuoted ? cur.toString() : cur.toString().trim());
        return fields;
    }
}
