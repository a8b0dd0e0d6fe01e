package dev.triage.tools.eval;

import javax.imageio.ImageIO;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The confusion matrix as a PNG heatmap, drawn with the JDK's own 2D graphics (headless): each
 * cell's shade is its share of its row (recall), the number in it the count.
 */
final class Heatmap {

    private static final int CELL = 56;
    private static final int MARGIN = 170;

    private Heatmap() {}

    static void write(EvalMetrics m, String title, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int n = m.labels().size();
        int cols = n + 1;
        int width = MARGIN + cols * CELL + 20;
        int height = MARGIN + n * CELL + 40;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(
                RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 10, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString("rows: expected, columns: predicted; shade: share of the row", 10, 38);
        FontMetrics fm = g.getFontMetrics();
        for (int c = 0; c < cols; c++) {
            String label = c < n ? m.labels().get(c) : EvalMetrics.NONE;
            Graphics2D rotated = (Graphics2D) g.create();
            rotated.translate(MARGIN + c * CELL + CELL / 2 + 4, MARGIN - 6);
            rotated.rotate(-Math.PI / 2);
            rotated.drawString(shorten(label), 0, 0);
            rotated.dispose();
        }
        for (int r = 0; r < n; r++) {
            String label = shorten(m.labels().get(r));
            g.setColor(Color.BLACK);
            g.drawString(
                    label, MARGIN - 8 - fm.stringWidth(label), MARGIN + r * CELL + CELL / 2 + 4);
            long support = Math.max(1, m.support(r));
            for (int c = 0; c < cols; c++) {
                long count = m.count(r, c);
                double share = count / (double) support;
                int shade = (int) Math.round(255 * (1 - share));
                g.setColor(new Color(shade, shade, 255));
                int x = MARGIN + c * CELL;
                int y = MARGIN + r * CELL;
                g.fillRect(x, y, CELL, CELL);
                g.setColor(Color.LIGHT_GRAY);
                g.drawRect(x, y, CELL, CELL);
                g.setColor(share > 0.5 ? Color.WHITE : Color.BLACK);
                String text = Long.toString(count);
                g.drawString(text, x + (CELL - fm.stringWidth(text)) / 2, y + CELL / 2 + 4);
            }
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static String shorten(String s) {
        return s.length() > 24 ? s.substring(0, 23) + "…" : s;
    }
}
