/**
 * RFC 5260 date parts: an instant seen in one time zone. By hand: the parts (julian, weekday,
 * std11, zone "+hhmm") are a few lines each, and a date library would add time-zone databases
 * that Sieve, with numeric zones only, never needs.
 */

/** A moment and the zone offset (minutes east of UTC) it is shown in. */
export interface ZonedTime {
  epochMs: number;
  offsetMinutes: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** RFC 5322 4.3 obsolete zone names; military letters mean nothing reliable, so they count as -0000. */
const NAMED_ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
};

/** "+hhmm" / "-hhmm" as minutes east, or null when it is not one. */
export function parseZone(zone: string): number | null {
  const m = /^([+-])([0-9]{2})([0-9]{2})$/.exec(zone.trim());
  if (!m || Number(m[3]) > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * An RFC 5322 date-time (the text after the last ";" for Received fields), or null. Obsolete
 * forms: two-digit years, named zones, no seconds.
 */
export function parseMessageDate(value: string): ZonedTime | null {
  const text = value.includes(';') ? value.slice(value.lastIndexOf(';') + 1) : value;
  const m =
    /^\s*(?:[a-z]{3}\s*,\s*)?([0-9]{1,2})\s+([a-z]{3})\s+([0-9]{2,4})\s+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*([+-][0-9]{4}|[a-z]{1,3})?/i.exec(
      text.replace(/\([^()]*\)/g, ' '),
    );
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const [day, hour, minute, second] = [Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const zone = m[7] ?? '-0000';
  const offset = parseZone(zone) ?? NAMED_ZONES[zone.toLowerCase()] ?? 0;
  // Date.UTC reads years 0..99 as 1900..1999: set the full year separately.
  const at = new Date(Date.UTC(2000, month, day, hour, minute, Math.min(second, 59)));
  at.setUTCFullYear(year);
  const local = at.getTime();
  return { epochMs: local - offset * 60_000, offsetMinutes: offset };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function zoneText(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** One date part (RFC 5260 4.2) or null for an unknown part name. */
export function datePart(time: ZonedTime, part: string): string | null {
  const d = new Date(time.epochMs + time.offsetMinutes * 60_000);
  const [y, mo, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
  const [h, mi, s] = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  const date = `${pad(y, 4)}-${pad(mo)}-${pad(day)}`;
  const time2 = `${pad(h)}:${pad(mi)}:${pad(s)}`;
  const zone = zoneText(time.offsetMinutes);
  switch (part.toLowerCase()) {
    case 'year':
      return pad(y, 4);
    case 'month':
      return pad(mo);
    case 'day':
      return pad(day);
    case 'date':
      return date;
    case 'julian':
      // Modified Julian Day: days since 1858-11-17.
      return String(Math.floor((Date.UTC(y, mo - 1, day) - Date.UTC(1858, 10, 17)) / 86_400_000));
    case 'hour':
      return pad(h);
    case 'minute':
      return pad(mi);
    case 'second':
      return pad(s);
    case 'time':
      return time2;
    case 'iso8601':
      // RFC 3339 as Pigeonhole writes it: "Z" for UTC.
      return `${date}T${time2}${time.offsetMinutes === 0 ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3)}`}`;
    case 'std11':
      return `${DAYS[d.getUTCDay()]}, ${pad(day)} ${MONTHS[mo - 1]![0]!.toUpperCase()}${MONTHS[mo - 1]!.slice(1)} ${y} ${time2} ${zone}`;
    case 'zone':
      return zone;
    case 'weekday':
      return String(d.getUTCDay());
  }
  return null;
}
