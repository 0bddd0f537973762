package dev.rankwise.kernels;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/// The catalog against the checked-in PTX: every `.entry` is catalogued and every catalogued kernel
/// exists with exactly the listed parameter types and struct sizes; the op codes match common.cuh.
class CatalogTest {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\((.*?)\\)", Pattern.DOTALL);
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+(?:\\.align (\\d+)\\s+)?(\\.\\w+)\\s+\\w+?(?:\\[(\\d+)])?\\s*$");

    /// The parameters of each entry of a PTX text, as (type, struct bytes) strings.
    static Map<String, List<String>> entries(String ptx) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            List<String> params = new ArrayList<>();
            for (String p : m.group(2).split(",")) {
                if (p.isBlank()) continue;
                Matcher pm = PARAM.matcher(p.trim());
                assertTrue(pm.find(), "unparsed parameter '" + p.trim() + "' of " + m.group(1));
                params.add(pm.group(3) == null ? pm.group(2) : pm.group(2) + "[" + pm.group(3) + "]");
            }
            out.put(m.group(1), params);
        }
        return out;
    }

    private static String describe(Param p) {
        return p.type() == Param.Type.STRUCT ? ".b8[" + p.structBytes() + "]" : p.type().ptx();
    }

    @Test
    void catalogMatchesEveryPtxEntry() {
        TreeSet<String> inPtx = new TreeSet<>(), inCatalog = new TreeSet<>();
        for (String module : KernelCatalog.modules()) {
            Map<String, List<String>> entries = entries(Ptx.text(module));
            assertFalse(entries.isEmpty(), module + ".ptx declares no entry");
            entries.keySet().forEach(e -> inPtx.add(module + "." + e));
            for (Kernel k : KernelCatalog.all()) {
                if (!k.module().equals(module)) continue;
                inCatalog.add(module + "." + k.name());
                List<String> ptx = entries.get(k.name());
                if (ptx == null) continue;
                List<String> cat = k.params().stream().map(CatalogTest::describe).toList();
                assertEquals(ptx, cat, "parameters of " + k.name() + " (PTX vs catalog " + k.params() + ")");
            }
        }
        assertEquals(inPtx, inCatalog, "PTX entries vs catalog");
    }

    @Test
    void everyPtxResourceIsCatalogued() throws IOException {
        try (var files = Files.list(Path.of("src/main/resources/dev/rankwise/kernels"))) {
            List<String> modules = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ptx"))
                    .map(n -> n.substring(0, n.length() - 4)).sorted().toList();
            assertEquals(modules, KernelCatalog.modules().stream().sorted().toList());
        }
    }

    @Test
    void opCodesMatchCommonHeader() throws Exception {
        Pattern define = Pattern.compile("^#define (\\w+) (\\d+)", Pattern.MULTILINE);
        Matcher m = define.matcher(Files.readString(Path.of("src/main/cuda/common.cuh")));
        Map<String, Integer> header = new LinkedHashMap<>();
        while (m.find()) header.put(m.group(1), Integer.parseInt(m.group(2)));
        assertTrue(header.size() > 40, "parsed " + header.size() + " defines");
        Map<String, Integer> java = new LinkedHashMap<>();
        for (Field f : OpCodes.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class && !f.getName().endsWith("_BYTES")) {
                java.put(f.getName(), f.getInt(null));
            }
        }
        assertEquals(new TreeSet<>(header.entrySet().stream().map(Object::toString).toList()),
                new TreeSet<>(java.entrySet().stream().map(Object::toString).toList()));
    }

    @Test
    void geometryRules() {
        assertEquals(1, Geometry.ELEMENTS.blocks(0));
        assertEquals(4, Geometry.ELEMENTS.blocks(1000));
        assertEquals(65_536, Geometry.ELEMENTS.blocks(1L << 40));
        assertEquals(7, Geometry.BLOCK_PER_OUTPUT.blocks(7));
        assertEquals(3, Geometry.ROW_TILES.blocks(2 * KernelCatalog.TILE_ROWS + 1));
    }
}
