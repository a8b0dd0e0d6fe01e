package dev.triage.tools.bench;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The report's three plots, drawn with JFreeChart. */
final class BenchPlots {

    private static final int WIDTH = 900;
    private static final int HEIGHT = 520;

    private BenchPlots() {}

    /** Throughput against calls in flight per subtask, with Little's law as the ceiling. */
    static void throughputVsInFlight(List<RunResult> sweep, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        XYSeries limit = new XYSeries("Little's law: 2 x in flight / 200 ms");
        for (int inFlight : Scenarios.SWEEP) {
            limit.add(inFlight, Scenarios.littlesLaw(inFlight));
        }
        data.addSeries(limit);
        for (Pipeline p : Pipeline.values()) {
            XYSeries s = new XYSeries(p.label());
            for (RunResult r : sweep) {
                if (r.pipeline() == p && !Double.isNaN(r.throughput().ticketsPerSecond())) {
                    s.add(r.inFlight(), r.throughput().ticketsPerSecond());
                }
            }
            if (!s.isEmpty()) {
                data.addSeries(s);
            }
        }
        JFreeChart chart =
                lineChart(
                        "Throughput against calls in flight (parallelism 2, latency 200 ms)",
                        "calls in flight per subtask",
                        "tickets/s (Kafka in to Kafka out, read_committed)",
                        data);
        chart.getXYPlot()
                .getRenderer()
                .setSeriesStroke(
                        0,
                        new BasicStroke(
                                1.5f,
                                BasicStroke.CAP_BUTT,
                                BasicStroke.JOIN_MITER,
                                10f,
                                new float[] {6f, 4f},
                                0f));
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }

    /** Cumulative distribution of ticket latency, one line per pipeline, log time axis. */
    static void latencyCdf(String title, List<RunResult> runs, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (RunResult r : runs) {
            long[] l = r.latency().sortedLatencies();
            if (l.length == 0) {
                continue;
            }
            XYSeries s = new XYSeries(r.pipeline().label());
            int step = Math.max(1, l.length / 400);
            for (int i = 0; i < l.length; i += step) {
                s.add(Math.max(1, l[i]), (i + 1.0) / l.length);
            }
            s.add(Math.max(1, l[l.length - 1]), 1.0);
            data.addSeries(s);
        }
        JFreeChart chart =
                lineChart(title, "ticket latency, ms (log scale)", "fraction of tickets", data);
        LogarithmicAxis x = new LogarithmicAxis("ticket latency, ms (log scale)");
        x.setAllowNegativesFlag(false);
        chart.getXYPlot().setDomainAxis(x);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }

    /** Results per second over the run, with the outage marked. */
    static void throughputOverTime(
            String title, List<RunResult> runs, int outageAt, int outageSeconds, Path png)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (RunResult r : runs) {
            XYSeries s = new XYSeries(r.pipeline().label());
            int[] perSecond = r.throughput().perSecond();
            for (int i = 0; i < perSecond.length; i++) {
                s.add(i, perSecond[i]);
            }
            data.addSeries(s);
        }
        JFreeChart chart =
                lineChart(
                        title,
                        "seconds since the load started",
                        "results/s (by broker append time)",
                        data);
        XYPlot plot = chart.getXYPlot();
        if (outageAt >= 0) {
            for (int at : new int[] {outageAt, outageAt + outageSeconds}) {
                ValueMarker m = new ValueMarker(at, Color.RED, new BasicStroke(1.5f));
                m.setLabel(at == outageAt ? "outage" : "provider back");
                plot.addDomainMarker(m);
            }
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }

    /** A line chart with a legend, in the report's style. */
    private static JFreeChart lineChart(
            String title, String xLabel, String yLabel, XYSeriesCollection data) {
        JFreeChart chart =
                ChartFactory.createXYLineChart(
                        title, xLabel, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
        style(chart);
        return chart;
    }

    private static void style(JFreeChart chart) {
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int i = 0; i < plot.getDataset().getSeriesCount(); i++) {
            plot.getRenderer().setSeriesStroke(i, new BasicStroke(2f));
        }
    }
}
