/** What the colours mean; the same in the text and on the chart. */
export function TraceLegend() {
  return (
    <div className="legend" aria-label="Colour legend">
      <span className="l-thinking">thinking</span>
      <span className="l-wait">injected wait</span>
      <span className="l-forced">forced close</span>
      <span className="l-end">model&apos;s own close</span>
      <span className="l-answer">answer</span>
      <span className="l-budget">budget</span>
      <span className="l-method">method (budget message, elimination, probe)</span>
    </div>
  );
}
