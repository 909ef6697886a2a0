import { useCallback, useLayoutEffect, useRef, type RefObject, type UIEvent } from "react";

/** Within this many pixels of the bottom counts as "following" the tail. */
const FOLLOW_SLACK_PX = 48;

export interface StickToBottom<T extends HTMLElement> {
  /** The scrolling element. */
  scroller: RefObject<T | null>;
  /** A ref for each element whose growth should keep the view at the bottom. */
  grows: (element: HTMLElement | null) => (() => void) | undefined;
  /** The scroller's scroll handler: scrolling up stops following, back to the bottom resumes. */
  onScroll: (event: UIEvent<T>) => void;
}

/**
 * Keeps a scroller at its bottom while `active` and the reader has not
 * scrolled up. The scroll happens when the content's size changes, from a
 * ResizeObserver: its callbacks run after the browser has laid the page out
 * for the frame, so reading the height there costs nothing. (Reading
 * `scrollHeight` in a layout effect after every batch forced a layout of the
 * trace in the middle of React's commit, before the rest of the frame's
 * changes, which then needed another.)
 */
export function useStickToBottom<T extends HTMLElement>(active: boolean): StickToBottom<T> {
  const scroller = useRef<T>(null);
  const following = useRef(true);
  const activeNow = useRef(active);
  const toBottom = useCallback(() => {
    const element = scroller.current;
    if (element && activeNow.current && following.current) element.scrollTop = element.scrollHeight;
  }, []);
  const observer = useRef<ResizeObserver | null>(null);
  useLayoutEffect(() => {
    activeNow.current = active;
    // Becoming active (a run starts, a paused playback resumes) shows the tail at once.
    toBottom();
  }, [active, toBottom]);
  const grows = useCallback(
    (element: HTMLElement | null) => {
      if (!element || typeof ResizeObserver !== "function") return undefined;
      const sizes = (observer.current ??= new ResizeObserver(toBottom));
      sizes.observe(element);
      return () => sizes.unobserve(element);
    },
    [toBottom],
  );
  const onScroll = useCallback((event: UIEvent<T>) => {
    const el = event.currentTarget;
    following.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_SLACK_PX;
  }, []);
  return { scroller, grows, onScroll };
}
