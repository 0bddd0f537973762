package dev.rankwise.cli.report;

import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/// PNG line charts on XChart, rendered headless and written atomically.
public final class Plots {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    /// Colour-blind-safe categorical colours (Okabe–Ito), one per series index.
    private static final Color[] PALETTE = {new Color(0, 114, 178), new Color(213, 94, 0), new Color(0, 158, 115),
            new Color(204, 121, 167), new Color(230, 159, 0), new Color(86, 180, 233), new Color(0, 0, 0), new Color(240, 228, 66)};

    private Plots() {}

    /// One series: its legend name, x and y values, colour index, and style (a step function holds each
    /// value until the next x).
    public record Series(String name, double[] x, double[] y, int color, boolean isDashed, boolean hasMarkers, boolean isStep) {
        public Series {
            if (x.length != y.length) throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
        }

        public static Series line(String name, double[] x, double[] y, int color) {
            return new Series(name, x, y, color, false, false, false);
        }

        public Series dashed() {
            return new Series(name, x, y, color, true, hasMarkers, isStep);
        }

        public Series withMarkers() {
            return new Series(name, x, y, color, isDashed, true, isStep);
        }

        public Series steps() {
            return new Series(name, x, y, color, isDashed, hasMarkers, true);
        }
    }

    /// A text placed at data coordinates (a point's label).
    public record Label(double x, double y, String text) {}

    /// A vertical line at `x` with a label near the top of the plot.
    public record Marker(double x, String label) {}

    /// A chart: title, axis titles, whether y is logarithmic or counts (integer ticks from 0), the
    /// series, vertical markers and point labels.
    public record Chart(String title, String xTitle, String yTitle, boolean logY, boolean countY, List<Series> series,
                       List<Marker> markers, List<Label> labels) {
        public Chart(String title, String xTitle, String yTitle, boolean logY, List<Series> series) {
            this(title, xTitle, yTitle, logY, false, series, List.of(), List.of());
        }
    }

    /// Writes `chart` to `file` (PNG, 1000×600). Non-positive values are left out of a log axis.
    public static void write(Path file, Chart chart) throws IOException {
        XYChart c = new XYChartBuilder().width(1000).height(600).title(chart.title()).xAxisTitle(chart.xTitle())
                .yAxisTitle(chart.yTitle()).build();
        var st = c.getStyler();
        st.setYAxisLogarithmic(chart.logY());
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(225, 225, 225));
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        st.setLegendBorderColor(Color.WHITE);
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
        st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setMarkerSize(7);
        st.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.ITALIC, 13));
        st.setAnnotationLineColor(Color.GRAY);
        st.setAnnotationLineStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
        st.setAnnotationTextFontColor(Color.DARK_GRAY);
        double yMax = Double.NEGATIVE_INFINITY, yMin = Double.POSITIVE_INFINITY;
        for (Series s : chart.series()) {
            double[] x = s.x(), y = s.y();
            if (chart.logY()) {
                List<double[]> kept = positive(x, y);
                x = kept.get(0);
                y = kept.get(1);
            }
            if (y.length == 0) continue;
            for (double v : y) {
                yMax = Math.max(yMax, v);
                yMin = Math.min(yMin, v);
            }
            XYSeries xy = c.addSeries(s.name(), x, y);
            if (s.isStep()) xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
            xy.setMarker(s.hasMarkers() ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            Color color = PALETTE[Math.floorMod(s.color(), PALETTE.length)];
            xy.setLineColor(color);
            xy.setMarkerColor(color);
            xy.setLineStyle(s.isDashed() ? SeriesLines.DASH_DASH : SeriesLines.SOLID);
            xy.setLineWidth(s.isDashed() ? 1.5f : 2f);
        }
        if (chart.countY() && yMax > Double.NEGATIVE_INFINITY) {
            st.setYAxisMin(0.0);
            st.setYAxisMax(Math.ceil(yMax) + 0.5);
            st.setYAxisDecimalPattern("#");
            st.setYAxisTickMarkSpacingHint(40);
        }
        for (Label l : chart.labels()) c.addAnnotation(new AnnotationText(l.text(), l.x(), l.y(), false));
        if (yMax > Double.NEGATIVE_INFINITY) {
            double top = chart.logY() ? yMin * Math.pow(yMax / yMin, 0.97) : yMin + 0.97 * (yMax - yMin);
            for (Marker m : chart.markers()) {
                c.addAnnotation(new AnnotationLine(m.x(), true, false));
                c.addAnnotation(new AnnotationText("  " + m.label(), m.x(), top, false));
            }
        }
        dev.rankwise.io.AtomicWrite.write(file, out -> BitmapEncoder.saveBitmap(c, out, BitmapEncoder.BitmapFormat.PNG));
    }

    private static List<double[]> positive(double[] x, double[] y) {
        List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
        for (int i = 0; i < y.length; i++) {
            if (y[i] > 0 && Double.isFinite(y[i])) {
                xs.add(x[i]);
                ys.add(y[i]);
            }
        }
        return List.of(xs.stream().mapToDouble(Double::doubleValue).toArray(), ys.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /// A long curve as the means of consecutive windows, at most `points` of them, each at its window's
    /// centre step (1-based steps), so plots stay light and the noise of single batches is averaged out.
    public static Series smooth(String name, List<Double> y, int points, int color) {
        int n = y.size();
        int w = Math.max(1, (n + points - 1) / points);
        int m = (n + w - 1) / w;
        double[] xs = new double[m], ys = new double[m];
        for (int i = 0; i < m; i++) {
            int from = i * w, to = Math.min(n, from + w);
            double s = 0;
            for (int j = from; j < to; j++) s += y.get(j);
            xs[i] = (from + to + 1) / 2.0;
            ys[i] = s / (to - from);
        }
        return Series.line(name, xs, ys, color);
    }
}
