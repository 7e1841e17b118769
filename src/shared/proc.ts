/**
 * Fields of a Linux `/proc/<pid>/stat` line by their 1-based number in
 * proc(5). They are counted after the `)` that ends the command name, since
 * the name may hold spaces and parentheses.
 */
export function statFields(text: string): (n: number) => string | undefined {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (n) => rest[n - 3];
}

/** USER_HZ: the unit of /proc's utime and stime; 100 on every Linux ABI Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;
