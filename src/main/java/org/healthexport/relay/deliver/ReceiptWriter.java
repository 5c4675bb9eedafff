package org.healthexport.relay.deliver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.healthexport.relay.http.Redaction;
import org.healthexport.relay.job.ExportJob;
import org.healthexport.relay.job.JobFile;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes {@code receipt.json} into the job folder after every file: consumers wait for it, then trust the
 * listed sizes and SHA-256 sums. Source URLs are written without their capability secrets.
 */
public class ReceiptWriter {
    public static final String NAME = "receipt.json";
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public record Receipt(String source, String kind, String jobId, String vendorJobId, String vendorStatus,
                          String transactionTime, String request, String requestId, String deliveredAt,
                          String target, Map<String, String> details, List<Map<String, Object>> files) { }

    public Receipt receipt(ExportJob job, List<JobFile> files, String targetKind, Instant now,
                           Map<String, String> details) {
        List<Map<String, Object>> listed = files.stream().map(f -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", f.targetKey());
            m.put("group", f.group());
            m.put("type", f.type());
            m.put("sourceUrl", Redaction.url(f.url()));
            m.put("bytes", f.bytes());
            m.put("sha256", f.sha256());
            if (f.note() != null) {
                m.put("note", f.note());
            }
            return m;
        }).toList();
        return new Receipt(job.sourceId(), job.kind(), job.id(), job.vendorJobId(), job.vendorStatus(),
                job.transactionTime() == null ? null : job.transactionTime().toString(),
                Redaction.url(job.requestUrl()), job.requestId(), now.toString(), targetKind, details, listed);
    }

    /** Puts the receipt under {@code folder/receipt.json}; returns its key. */
    public String write(DeliveryTarget target, String folder, Receipt receipt) throws IOException {
        byte[] bytes = json.writeValueAsBytes(receipt);
        String key = folder + "/" + NAME;
        target.put(key, new ByteArrayInputStream(bytes), bytes.length, "application/json");
        return key;
    }
}
