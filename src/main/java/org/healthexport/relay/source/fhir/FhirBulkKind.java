package org.healthexport.relay.source.fhir;

import org.healthexport.relay.http.BoundedAnswer;
import org.healthexport.relay.source.KindContext;
import org.healthexport.relay.source.SourceKind;

import java.util.Set;

/** The generic HL7 FHIR Bulk Data kind ({@code fhir-bulk}); routes in {@code routes/fhir-bulk.camel.yaml}. */
public class FhirBulkKind implements SourceKind {
    public static final String NAME = "fhir-bulk";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> keys() {
        return FhirBulkKickoff.KEYS;
    }

    @Override
    public void bind(KindContext c) {
        FhirBulkKickoff kickoff = new FhirBulkKickoff(c.sources(), c.store(), c.jobs());
        c.bind("fhirBulkKickoff", kickoff);
        c.bind("fhirBulkStatus", new FhirBulkStatus(c.sources(), c.jobs(), c.files(), c.auth(),
                BoundedAnswer.maxBytes(c.properties()),
                FhirBulkStatus.maxManifestPages(c.properties())));
        c.bind("operationOutcomes", new OperationOutcomes());
        c.adopters().put(NAME, kickoff);
    }
}
