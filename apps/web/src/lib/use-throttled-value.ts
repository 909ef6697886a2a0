import { useEffect, useRef, useState } from "react";

/**
 * `value`, updated at most once per `intervalMs` (the last value always
 * arrives). For views that cost more to draw than the text, such as charts.
 */
export function useThrottledValue<T>(value: T, intervalMs: number): T {
  const [shown, setShown] = useState(value);
  const lastShownAt = useRef(0);
  useEffect(() => {
    const wait = Math.max(0, lastShownAt.current + intervalMs - performance.now());
    const timer = setTimeout(() => {
      lastShownAt.current = performance.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, intervalMs]);
  return shown;
}
