import type { Reader } from './reader.js';
import { DQUOTE } from './reader.js';

/** A calendar day as SEARCH BEFORE/ON/SINCE names it (no time, no zone). */
export interface ImapDate {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
}

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Date.UTC reads years below 100 as 19xx; IMAP years are four literal digits. */
export function utcInstant(year: number, month: number, day: number, h = 0, m = 0, s = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(h, m, s, 0);
  return date.getTime();
}

function fixedDigits(r: Reader, count: number, what: string): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const b = r.peek();
    if (b < 0x30 || b > 0x39) r.fail(`Expected ${what}, found ${r.describeHere()}`);
    value = value * 10 + (b - 0x30);
    r.pos++;
  }
  return value;
}

function readMonth(r: Reader): number {
  const text = r.bytes
    .subarray(r.pos, r.pos + 3)
    .toString('latin1')
    .toLowerCase();
  const index = MONTHS.findIndex((m) => m.toLowerCase() === text);
  if (index < 0) r.fail(`Expected a month name such as Jan, found ${r.describeHere()}`);
  r.pos += 3;
  return index + 1;
}

/** date-text after the day: "-" date-month "-" date-year, then checks the day exists. */
function readMonthYear(r: Reader, day: number): ImapDate {
  r.expectChar(0x2d, '"-" in the date');
  const month = readMonth(r);
  r.expectChar(0x2d, '"-" in the date');
  const year = fixedDigits(r, 4, 'a four-digit year');
  if (day < 1 || day > daysInMonth(year, month)) r.fail(`There is no day ${day} in that month`);
  return { year, month, day };
}

/** date: date-text, optionally in double quotes ("1-Feb-1994" or 01-Feb-1994). */
export function readDate(r: Reader): ImapDate {
  const quoted = r.tryChar(DQUOTE);
  const first = fixedDigits(r, 1, 'a date such as 1-Feb-2024');
  const b = r.peek();
  const day = b >= 0x30 && b <= 0x39 ? first * 10 + fixedDigits(r, 1, 'a digit') : first;
  const date = readMonthYear(r, day);
  if (quoted) r.expectChar(DQUOTE, 'a closing quote after the date');
  return date;
}

/** date-time: DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE, as an instant. */
export function readDateTime(r: Reader): Date {
  return readZonedDateTime(r).instant;
}

/** A date-time with the zone it was written in (minutes east of UTC), which SEARCH ON/BEFORE/SINCE use. */
export function readZonedDateTime(r: Reader): { instant: Date; zone: number } {
  r.expectChar(DQUOTE, 'a date-time such as "17-Jul-1996 02:44:25 -0700"');
  // date-day-fixed is a space-padded day; a bare single digit is accepted too, as clients send it.
  const padded = r.tryChar(0x20);
  const first = fixedDigits(r, 1, 'the day of a date-time');
  const b = r.peek();
  const day = !padded && b >= 0x30 && b <= 0x39 ? first * 10 + fixedDigits(r, 1, 'a digit') : first;
  const { year, month } = readMonthYear(r, day);
  r.sp('the date');
  const hour = fixedDigits(r, 2, 'hours');
  r.expectChar(0x3a, '":" in the time');
  const minute = fixedDigits(r, 2, 'minutes');
  r.expectChar(0x3a, '":" in the time');
  const second = fixedDigits(r, 2, 'seconds');
  if (hour > 23 || minute > 59 || second > 60) r.fail('Invalid time of day');
  r.sp('the time');
  const sign = r.peek();
  if (sign !== 0x2b && sign !== 0x2d) r.fail(`Expected a zone such as +0000, found ${r.describeHere()}`);
  r.pos++;
  const zh = fixedDigits(r, 2, 'zone hours');
  const zm = fixedDigits(r, 2, 'zone minutes');
  if (zm > 59) r.fail('Invalid zone minutes');
  r.expectChar(DQUOTE, 'a closing quote after the date-time');
  const offset = (sign === 0x2d ? -1 : 1) * (zh * 60 + zm);
  return {
    instant: new Date(utcInstant(year, month, day, hour, minute, Math.min(second, 59)) - offset * 60_000),
    zone: offset,
  };
}
