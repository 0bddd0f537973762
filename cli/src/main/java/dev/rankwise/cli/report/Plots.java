package dev.rankwise.cli.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/// PNG line charts on XChart, rendered headless and written atomically.
public final class Plots {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /// One series: its name and its x, y values.
    public record Series(String name, double[] x, double[] y) {
        /// y against 1, 2, 3, ….
        public static Series of(String name, List<Double> y) {
            double[] xs = new double[y.size()], ys = new double[y.size()];
            for (int i = 0; i < ys.length; i++) {
                xs[i] = i + 1;
                ys[i] = y.get(i);
            }
            return new Series(name, xs, ys);
        }
    }

    /// Writes a line chart of the series to `file` (PNG, 900×560).
    public static void line(Path file, String title, String xTitle, String yTitle, List<Series> series, boolean logY, boolean markers)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(560).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        for (Series s : series) {
            double[] y = s.y();
            if (logY) {
                y = y.clone();
                for (int i = 0; i < y.length; i++) y[i] = Math.max(y[i], 1e-12);
            }
            XYSeries xy = chart.addSeries(s.name(), s.x(), y);
            xy.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }
        dev.rankwise.io.AtomicWrite.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /// Downsamples a long curve to at most `points` points by averaging windows (keeps plots light).
    public static Series smooth(String name, List<Double> y, int points) {
        int n = y.size();
        int w = Math.max(1, n / points);
        int m = n / w;
        double[] xs = new double[m], ys = new double[m];
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int j = 0; j < w; j++) s += y.get(i * w + j);
            xs[i] = (i + 0.5) * w;
            ys[i] = s / w;
        }
        return new Series(name, xs, ys);
    }

    public static Map<String, Object> describe(Path file) {
        return Map.of("file", file.getFileName().toString());
    }
}
