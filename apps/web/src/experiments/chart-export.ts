/**
 * A chart on the page as a file: its SVG made standalone, or a PNG drawn
 * from that SVG on a canvas.
 *
 * The page colours charts with CSS variables and stylesheet rules (so themes
 * and the projector mode apply); a file has neither. Each element's computed
 * paint and text properties are therefore written into its own `style`, and
 * the HTML parts recharts draws outside the SVG (there is no legend inside)
 * are added as SVG: a title above and a legend below.
 */

/** The properties that decide how an SVG element looks once the stylesheet is gone. */
const STYLE_PROPERTIES = [
  "fill",
  "fill-opacity",
  "stroke",
  "stroke-width",
  "stroke-dasharray",
  "stroke-opacity",
  "opacity",
  "font-family",
  "font-size",
  "font-weight",
  "visibility",
] as const;

const SVG_NS = "http://www.w3.org/2000/svg";

export interface LegendEntry {
  label: string;
  /** A CSS colour or `var(--name)`. */
  color: string;
}

export interface ExportOptions {
  title: string;
  legend: readonly LegendEntry[];
  /** The computed style of an element on the page; `getComputedStyle` by default. */
  styleOf?: (element: Element) => Pick<CSSStyleDeclaration, "getPropertyValue">;
  /** A CSS colour as the page resolves it (`var(--surface)` -> `#ffffff`). */
  resolveColor?: (color: string) => string;
}

const TITLE_HEIGHT = 28;
const LEGEND_ROW = 20;
const PAD = 12;

/** Resolves `var(--name)` against the document's root, where the theme sets them. */
export function documentColorResolver(root: Element = document.documentElement) {
  const style = getComputedStyle(root);
  return (color: string) =>
    color.replace(/var\((--[\w-]+)\)/g, (whole, name: string) => {
      const value = style.getPropertyValue(name).trim();
      return value === "" ? whole : value;
    });
}

/** The chart's SVG as a standalone document: styles inlined, a title and a legend added, a background. */
export function standaloneSvg(svg: SVGSVGElement, options: ExportOptions): string {
  const styleOf = options.styleOf ?? ((element: Element) => getComputedStyle(element));
  const resolve = options.resolveColor ?? documentColorResolver();
  const width = Number(svg.getAttribute("width")) || svg.clientWidth || 640;
  const height = Number(svg.getAttribute("height")) || svg.clientHeight || 320;

  const clone = svg.cloneNode(true) as SVGSVGElement;
  // Its page layout (width: 100% of the chart box) has no meaning inside the file.
  clone.removeAttribute("style");
  inlineStyles(svg, clone, styleOf, resolve);

  const doc = svg.ownerDocument;
  const legendRows = Math.ceil(options.legend.length / legendColumns(width));
  const legendHeight = legendRows === 0 ? 0 : legendRows * LEGEND_ROW + PAD;
  const totalHeight = TITLE_HEIGHT + height + legendHeight;
  const textColor = resolve("var(--text)");

  const root = doc.createElementNS(SVG_NS, "svg");
  root.setAttribute("width", String(width));
  root.setAttribute("height", String(totalHeight));
  root.setAttribute("viewBox", `0 0 ${width} ${totalHeight}`);
  root.setAttribute("font-family", "system-ui, sans-serif");

  const background = doc.createElementNS(SVG_NS, "rect");
  background.setAttribute("width", "100%");
  background.setAttribute("height", "100%");
  background.setAttribute("fill", resolve("var(--surface)"));
  root.appendChild(background);

  const title = doc.createElementNS(SVG_NS, "text");
  title.setAttribute("x", String(PAD));
  title.setAttribute("y", "19");
  title.setAttribute("font-size", "15");
  title.setAttribute("font-weight", "600");
  title.setAttribute("fill", textColor);
  title.textContent = options.title;
  root.appendChild(title);

  clone.setAttribute("x", "0");
  clone.setAttribute("y", String(TITLE_HEIGHT));
  clone.setAttribute("width", String(width));
  clone.setAttribute("height", String(height));
  root.appendChild(clone);

  const columns = legendColumns(width);
  const columnWidth = (width - 2 * PAD) / columns;
  options.legend.forEach((entry, index) => {
    const x = PAD + (index % columns) * columnWidth;
    const y = TITLE_HEIGHT + height + PAD / 2 + Math.floor(index / columns) * LEGEND_ROW;
    const swatch = doc.createElementNS(SVG_NS, "rect");
    swatch.setAttribute("x", String(x));
    swatch.setAttribute("y", String(y + 3));
    swatch.setAttribute("width", "12");
    swatch.setAttribute("height", "12");
    swatch.setAttribute("rx", "2");
    swatch.setAttribute("fill", resolve(entry.color));
    const label = doc.createElementNS(SVG_NS, "text");
    label.setAttribute("x", String(x + 18));
    label.setAttribute("y", String(y + 13));
    label.setAttribute("font-size", "12");
    label.setAttribute("fill", textColor);
    label.textContent = entry.label;
    root.append(swatch, label);
  });

  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(root)}`;
}

function legendColumns(width: number): number {
  return Math.max(1, Math.floor((width - 2 * PAD) / 200));
}

/** Properties SVG children inherit: written only where they differ from the parent's, to keep files small. */
const INHERITED = new Set<string>(STYLE_PROPERTIES.filter((p) => p !== "opacity"));
const DEFAULTS: Partial<Record<(typeof STYLE_PROPERTIES)[number], string>> = { opacity: "1" };

/** Walks the page's element and its clone together, writing the computed look into the clone. */
function inlineStyles(
  source: Element,
  target: Element,
  styleOf: NonNullable<ExportOptions["styleOf"]>,
  resolve: (color: string) => string,
  inherited: ReadonlyMap<string, string> = new Map(),
): void {
  const computed = styleOf(source);
  const own = new Map<string, string>();
  const declarations: string[] = [];
  for (const property of STYLE_PROPERTIES) {
    const value = resolve(computed.getPropertyValue(property).trim());
    if (value === "") continue;
    own.set(property, value);
    const implied = INHERITED.has(property) ? inherited.get(property) : DEFAULTS[property];
    if (value !== implied) declarations.push(`${property}: ${value}`);
  }
  // Variables in attributes and inline styles would mean nothing outside the page (and where the
  // computed style did not resolve them, as in jsdom, this is what keeps the colour).
  for (const attribute of ["fill", "stroke", "style"]) {
    const value = target.getAttribute(attribute);
    if (value?.includes("var(")) target.setAttribute(attribute, resolve(value));
  }
  if (declarations.length > 0) {
    const style = target.getAttribute("style")?.trim().replace(/;+$/, "");
    target.setAttribute("style", `${style ? `${style}; ` : ""}${declarations.join("; ")}`);
  }
  const next = new Map([...inherited, ...own]);
  const sourceChildren = source.children;
  const targetChildren = target.children;
  for (let i = 0; i < sourceChildren.length && i < targetChildren.length; i += 1) {
    inlineStyles(sourceChildren[i]!, targetChildren[i]!, styleOf, resolve, next);
  }
}

/** Draws the SVG on a canvas at `scale` times its size (sharp on high-density screens and slides). */
export async function svgToPng(svgText: string, scale = 2): Promise<Blob> {
  const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svgText);
  const width = Number(size?.[1] ?? 640);
  const height = Number(size?.[2] ?? 320);
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml;charset=utf-8" }));
  try {
    const image = new Image();
    image.decoding = "sync";
    await new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new Error("The browser could not draw the chart's SVG."));
      image.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext("2d");
    if (!context) throw new Error("This browser cannot draw on a canvas.");
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob(
        (blob) => (blob ? resolve(blob) : reject(new Error("The PNG could not be made."))),
        "image/png",
      ),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Saves a blob under a file name through a temporary link. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started by the time the click returns; the URL can go soon after.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** `Accuracy vs thinking tokens` -> `accuracy-vs-thinking-tokens`. */
export function fileSlug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80) || "chart"
  );
}
