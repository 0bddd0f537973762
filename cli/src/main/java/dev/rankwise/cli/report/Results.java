package dev.rankwise.cli.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/// Result files (pretty JSON, written atomically) and the plain-text table printed at the end of a run.
public final class Results {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Results() {}

    public static void writeJson(Path file, Object value) throws IOException {
        dev.rankwise.io.AtomicWrite.write(file, out -> JSON.writeValue(out, value));
    }

    public static ObjectMapper mapper() {
        return JSON;
    }

    /// A table with aligned columns: numbers right-aligned, text left-aligned.
    public static String table(List<String> header, List<List<String>> rows) {
        int[] width = new int[header.size()];
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> r : all) for (int i = 0; i < r.size(); i++) width[i] = Math.max(width[i], r.get(i).length());
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < all.size(); k++) {
            List<String> r = all.get(k);
            for (int i = 0; i < r.size(); i++) {
                String cell = r.get(i);
                boolean numeric = k > 0 && cell.matches("[-+0-9.,eE%±/ ()]+") && !cell.isBlank();
                sb.append(i == 0 ? "" : "  ").append(numeric ? " ".repeat(width[i] - cell.length()) + cell
                        : cell + " ".repeat(width[i] - cell.length()));
            }
            sb.append('\n');
            if (k == 0) {
                for (int i = 0; i < width.length; i++) sb.append(i == 0 ? "" : "  ").append("-".repeat(width[i]));
                sb.append('\n');
            }
        }
        return sb.toString();
    }
}
