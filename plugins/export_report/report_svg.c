/*
 * report_svg.c - inline SVG bar charts for export_report.
 *
 * Charts are plain SVG written as text: no script, no external font, so
 * the page stays one self-contained, printable file. Horizontal bars are the
 * default (Chinese category labels read best on the left, unrotated);
 * vertical columns suit a few short categories (levels 1-5, years).
 * Each chart carries a <title> and <desc> for screen readers, and each bar a
 * <title> with its label and value (a tooltip in the browser).
 * Sizes are in SVG user units; the <svg> scales to the page width.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

#define CHART_W 760.0
#define FONT_PX 12.0
#define BAR_FILL "#b8322a"
#define BAR_NEG_FILL "#4a6d8c"
#define GRID "#e4e4e4"
#define INK "#333333"
#define MUTED "#777777"

/* Approximate width of UTF-8 text at FONT_PX: CJK and other wide
   characters take a full em, ASCII a bit over half. */
static double text_width(const char *s, size_t *cut_at, double max_w)
{
    double w = 0;
    size_t i = 0;
    if (cut_at)
        *cut_at = strlen(s);
    while (s[i]) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        double cw = c < 0x80   ? FONT_PX * 0.6
                    : c < 0xe0 ? FONT_PX * 0.7
                               : FONT_PX;
        if (cut_at && w + cw > max_w) {
            *cut_at = i;
            return w;
        }
        w += cw;
        for (size_t k = 0; k < n && s[i]; k++)
            i++;
    }
    return w;
}

/* Append label, cut with "…" when wider than max_w. */
static void put_label(rp_buf *b, const char *s, double max_w)
{
    size_t cut;
    text_width(s, &cut, max_w - FONT_PX);
    if (s[cut] == '\0' || text_width(s, NULL, 0) <= max_w) {
        rp_escape_str(b, s);
        return;
    }
    rp_escape(b, s, cut);
    rp_puts(b, "…");
}

/*
 * Where to break a label into two lines no wider than max_w: after the
 * last '/', ' ' or '、' that fits, else where the width runs out.
 * Returns 0 when it fits on one line.
 */
static size_t label_break(const char *s, double max_w)
{
    size_t cut;
    text_width(s, &cut, max_w);
    if (s[cut] == '\0')
        return 0;
    size_t best = 0;
    for (size_t i = 0; i < cut; i++) {
        if (s[i] == '/' || s[i] == ' ')
            best = i + 1;
        else if (strncmp(s + i, "、", 3) == 0 && i + 3 <= cut)
            best = i + 3;
    }
    return best ? best : cut;
}

/* A label under a column: on one line, or two (the second cut with "…"). */
static void put_label_lines(rp_buf *b, const char *s, double max_w, double x)
{
    size_t brk = label_break(s, max_w);
    if (brk == 0) {
        put_label(b, s, max_w);
        return;
    }
    rp_escape(b, s, brk);
    const char *rest = s + brk;
    while (*rest == ' ')
        rest++;
    rp_printf(b, "<tspan x=\"%.1f\" dy=\"%.1f\">", x, FONT_PX * 1.3);
    put_label(b, rest, max_w);
    rp_puts(b, "</tspan>");
}

/* A "nice" step (1, 2 or 5 times a power of ten) near span/target. */
static double nice_step(double span, int target)
{
    double raw = span / target;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    double nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
    return nice * p;
}

static void put_tick(rp_buf *b, double v, double step, const rp_chart *c)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (c->unit == RP_SHARE) { /* ticks of a share read as percentages */
        v *= 100;
        step *= 100;
        dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    }
    rp_cell cell = {.kind = RP_FLOAT, .f = fabs(v) < step / 1e6 ? 0 : v};
    rp_buf t = {0};
    rp_format(&t, &cell, RP_PLAIN, dec, c->lang);
    if (t.data)
        rp_escape_str(b, t.data);
    if (c->unit != RP_PLAIN)
        rp_puts(b, "%");
    rp_buf_free(&t);
}

typedef struct scale {
    double lo, hi, step;
    int nticks;
    double x0, x1; /* pixel range */
} scale;

static void make_scale(scale *s, const rp_chart *c, double x0, double x1)
{
    double lo = 0, hi = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->bars[i].has_value) {
            lo = fmin(lo, c->bars[i].value);
            hi = fmax(hi, c->bars[i].value);
        }
    /* a share or a percentage that reaches past half of the whole is
       drawn against the whole (0-100%), so bars compare with the full */
    double whole = c->unit == RP_SHARE ? 1 : c->unit == RP_PCT ? 100 : 0;
    if (whole > 0 && lo >= 0 && hi <= whole && hi >= whole / 2)
        hi = whole;
    if (hi - lo <= 0)
        hi = lo + 1;
    if (!isfinite(hi - lo) || hi - lo > 1e300) {
        lo = 0; /* absurd values: an arbitrary scale, bars clamped */
        hi = 1;
    }
    s->step = nice_step(hi - lo, 5);
    s->lo = floor(lo / s->step) * s->step;
    s->hi = ceil(hi / s->step) * s->step;
    s->nticks = (int)lround((s->hi - s->lo) / s->step) + 1;
    if (s->nticks < 2 || s->nticks > 12)
        s->nticks = 2;
    s->x0 = x0;
    s->x1 = x1;
}

static double at(const scale *s, double v)
{
    double x = s->x0 + (v - s->lo) / (s->hi - s->lo) * (s->x1 - s->x0);
    return fmax(fmin(x, fmax(s->x0, s->x1)), fmin(s->x0, s->x1));
}

static double tick(const scale *s, int i)
{
    return s->lo + (s->hi - s->lo) * i / (s->nticks - 1);
}

static void open_svg(rp_buf *b, const rp_chart *c, double h)
{
    rp_printf(b,
              "<svg class=\"chart%s\" xmlns=\"http://www.w3.org/2000/svg\" "
              "viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
              "aria-labelledby=\"%s-t %s-d\" font-size=\"%.0f\">\n"
              "<title id=\"%s-t\">",
              c->columns ? " columns" : "", CHART_W, h, c->id, c->id, FONT_PX,
              c->id);
    rp_escape_str(b, c->title);
    rp_printf(b, "</title>\n<desc id=\"%s-d\">", c->id);
    rp_escape_str(b, c->desc);
    rp_puts(b, "</desc>\n");
}

static void bar_title(rp_buf *b, const rp_bar *bar)
{
    rp_puts(b, "<title>");
    rp_escape_str(b, bar->label);
    rp_puts(b, ": ");
    rp_escape_str(b, bar->value_text);
    rp_puts(b, "</title>");
}

static void horizontal(rp_buf *b, const rp_chart *c)
{
    const double row_h = 24, bar_h = 15, top = 24, bottom = 8;
    double label_w = 0;
    for (size_t i = 0; i < c->n; i++)
        label_w = fmax(label_w, text_width(c->bars[i].label, NULL, 0));
    label_w = fmin(label_w, 220) + 12;
    double value_w = 0;
    for (size_t i = 0; i < c->n; i++)
        value_w = fmax(value_w, text_width(c->bars[i].value_text, NULL, 0));
    value_w = fmin(value_w, 160) + 14;
    double h = top + row_h * (double)c->n + bottom;
    scale s;
    make_scale(&s, c, label_w, CHART_W - value_w);
    open_svg(b, c, h);

    /* grid and ticks */
    rp_printf(b, "<g class=\"grid\" stroke=\"%s\">\n", GRID);
    for (int i = 0; i < s.nticks; i++)
        rp_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  at(&s, tick(&s, i)), top - 4, at(&s, tick(&s, i)),
                  h - bottom);
    rp_printf(b,
              "\n</g>\n<g class=\"ticks\" fill=\"%s\" "
              "text-anchor=\"middle\">\n",
              MUTED);
    for (int i = 0; i < s.nticks; i++) {
        double t = tick(&s, i);
        rp_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", at(&s, t), top - 9);
        put_tick(b, t, s.step, c);
        rp_puts(b, "</text>");
    }
    rp_puts(b, "\n</g>\n");

    double zero = at(&s, 0);
    for (size_t i = 0; i < c->n; i++) {
        const rp_bar *bar = &c->bars[i];
        double y = top + row_h * (double)i;
        double ty = y + row_h / 2 + FONT_PX * 0.35;
        rp_puts(b, "<g>");
        bar_title(b, bar);
        rp_printf(b,
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                  "fill=\"%s\">",
                  label_w - 8, ty, INK);
        put_label(b, bar->label, label_w - 12);
        rp_puts(b, "</text>");
        if (bar->has_value) {
            double x = at(&s, bar->value);
            double x0 = fmin(x, zero), w = fabs(x - zero);
            rp_printf(b,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill=\"%s\"/>",
                      x0, y + (row_h - bar_h) / 2, w < 0.5 && w > 0 ? 0.5 : w,
                      bar_h, bar->value < 0 ? BAR_NEG_FILL : BAR_FILL);
            rp_printf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">",
                      fmax(x, zero) + 5, ty, INK);
        } else {
            rp_printf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", zero + 5,
                      ty, MUTED);
        }
        rp_escape_str(b, bar->value_text);
        rp_puts(b, "</text></g>\n");
    }
    rp_printf(b,
              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
              "stroke=\"%s\"/>\n",
              zero, top - 4, zero, h - bottom, MUTED);
    rp_puts(b, "</svg>\n");
}

static void vertical(rp_buf *b, const rp_chart *c)
{
    /* low columns: three charts of a section and its table fit one A4 page */
    const double top = 22, plot_h = 130, label_h = 46, left = 64;
    double h = top + plot_h + label_h;
    /* the scale maps values to y, drawn upwards */
    scale s;
    make_scale(&s, c, top + plot_h, top);
    open_svg(b, c, h);
    rp_printf(b, "<g class=\"grid\" stroke=\"%s\">\n", GRID);
    for (int i = 0; i < s.nticks; i++)
        rp_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  left, at(&s, tick(&s, i)), CHART_W - 8, at(&s, tick(&s, i)));
    rp_printf(b,
              "\n</g>\n<g class=\"ticks\" fill=\"%s\" "
              "text-anchor=\"end\">\n",
              MUTED);
    for (int i = 0; i < s.nticks; i++) {
        double t = tick(&s, i);
        rp_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", left - 6,
                  at(&s, t) + FONT_PX * 0.35);
        put_tick(b, t, s.step, c);
        rp_puts(b, "</text>");
    }
    rp_puts(b, "\n</g>\n");

    double slot = (CHART_W - 8 - left) / (double)(c->n ? c->n : 1);
    double bw = fmin(slot * 0.6, 56);
    double zero = at(&s, 0);
    for (size_t i = 0; i < c->n; i++) {
        const rp_bar *bar = &c->bars[i];
        double cx = left + slot * ((double)i + 0.5);
        rp_puts(b, "<g>");
        bar_title(b, bar);
        if (bar->has_value) {
            double y = at(&s, bar->value);
            double y0 = fmin(y, zero), hh = fabs(y - zero);
            rp_printf(b,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill=\"%s\"/>",
                      cx - bw / 2, y0, bw, hh,
                      bar->value < 0 ? BAR_NEG_FILL : BAR_FILL);
            rp_printf(b,
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                      "fill=\"%s\">",
                      cx, y0 - 5, INK);
        } else {
            rp_printf(b,
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                      "fill=\"%s\">",
                      cx, zero - 5, MUTED);
        }
        rp_escape_str(b, bar->value_text);
        rp_printf(b,
                  "</text><text x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"middle\" fill=\"%s\">",
                  cx, top + plot_h + 18, INK);
        put_label_lines(b, bar->label, slot - 4, cx);
        rp_puts(b, "</text></g>\n");
    }
    rp_printf(b,
              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
              "stroke=\"%s\"/>\n",
              left, zero, CHART_W - 8, zero, MUTED);
    rp_puts(b, "</svg>\n");
}

void rp_svg_chart(rp_buf *b, const rp_chart *chart)
{
    if (chart->columns)
        vertical(b, chart);
    else
        horizontal(b, chart);
}
