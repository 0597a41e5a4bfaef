// Generates the demo CRM: demo/data/customers.csv, orders.csv and subscriptions.csv.
//
//   npx tsx demo/generate.ts
//
// A fictional coffee roaster ("Northbound Coffee") sells bags of coffee online and runs a
// subscription ("Roast Club") with a 14-day free trial. The data is fake but shaped like a real
// CRM export, including the mess audsync has to normalize before hashing: mixed-case and padded
// emails, gmail dots and +tags, households sharing one email, invalid emails, phones typed every
// which way, accents and apostrophes in names, postal codes with and without spaces.
//
// Every contact detail is reserved for examples or fiction:
//   emails  example.com / example.org / example.net (RFC 2606), plus a few gmail.com/googlemail.com
//           addresses with obviously fake local parts (demo.user.0042+promo@gmail.com)
//   phones  US/CA 555-0100..0199; GB Ofcom drama ranges (020 7946 0xxx, 0161 496 0xxx, 07700 900xxx ...);
//           DE Bundesnetzagentur drama numbers (030 23125 xxx, 040 66969 xxx ...); FR Arcep fiction
//           ranges (01 99 00 xx xx, 06 39 98 xx xx ...); AU ACMA (02 5550 xxxx and the 0491 570 xxx list)
//
// The output is a pure function of SEED: same code, same bytes. Hence no Date.now(), no
// Math.random(), and no Math.exp/log (distributions are built from uniforms, sums and sqrt only).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 20261129;
const CUSTOMERS = 5000;
const DAY = 86_400_000;
/** The demo's "today" (audsync.yml `as_of_date`). The export holds everything up to the end of this day. */
const AS_OF = Date.UTC(2026, 10, 29);
const EXPORT_END = AS_OF + DAY; // exclusive
const CRM_START = Date.UTC(2021, 2, 1); // first customer accounts
const SHOP_DATA_START = Date.UTC(2025, 5, 1); // orders.csv holds the last 18 months
const CLUB_LAUNCH = Date.UTC(2025, 4, 12); // Roast Club launch
const TRIAL_DAYS = 14;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (sfc32, seeded through splitmix32) and distributions built on it.

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function sfc32(seed: number): () => number {
  const init = splitmix32(seed);
  let a = init(), b = init(), c = init(), d = 1;
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

const rand = sfc32(SEED);
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const chance = (p: number): boolean => rand() < p;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

/** Picks a key by weight: pickWeighted({ a: 3, b: 1 }). */
function pickWeighted<K extends string>(weights: Record<K, number>): K {
  const entries = Object.entries(weights) as [K, number][];
  let r = rand() * entries.reduce((sum, [, w]) => sum + w, 0);
  for (const [key, w] of entries) {
    r -= w;
    if (r < 0) return key;
  }
  return entries[entries.length - 1]![0];
}

/** Picks one of several values by weight: choose([['a', 3], ['b', 1]]). Equal values simply add up. */
function choose<T>(options: readonly (readonly [T, number])[]): T {
  let r = rand() * options.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, w] of options) {
    r -= w;
    if (r < 0) return value;
  }
  return options[options.length - 1]![0];
}

/** A count with the given mean: binomial(2*mean, 1/2), close to Poisson for our purposes. */
function count(mean: number): number {
  const n = Math.round(mean * 2);
  let k = 0;
  for (let i = 0; i < n; i++) if (rand() < 0.5) k++;
  return k;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function ts(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/** A time of day with realistic weight: few orders at night, most in the evening. */
function timeOfDay(): number {
  const hour = choose([[0, 2], [6, 3], [9, 8], [12, 9], [15, 8], [18, 11], [21, 6]]);
  return (hour * 3600 + int(0, 3 * 3600 - 1)) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Reference data: names per country, postal codes, fictional phone ranges.

type Country = 'US' | 'GB' | 'DE' | 'FR' | 'CA' | 'AU';

const FIRST: Record<Country, readonly string[]> = {
  US: ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth',
    'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Christopher', 'Karen',
    'Daniel', 'Emily', 'Matthew', 'Ashley', 'Anthony', 'Olivia', 'Mark', 'Emma', 'Tyler', 'Madison',
    'José', 'María', 'Sofía', 'Luis', 'Lucía', 'Andrés', 'Martín', 'Renée', 'Zoë', 'André', 'DeShawn',
    'Aaliyah', 'Mei', 'Priya', 'Anh', 'Jae-won', 'Siobhan', 'Ryan', 'Hannah', 'Ethan'],
  GB: ['Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Jack', 'Mia', 'Charlie', 'Freya', 'Thomas',
    'Poppy', 'Alfie', 'Grace', 'Arthur', 'Sophie', 'Siobhán', 'Niamh', 'Seán', 'Aoife', 'Rhys', 'Ffion',
    'Callum', 'Eilidh', 'Mohammed', 'Zara', 'Chloë', 'Róisín', 'Hamish', 'Imogen'],
  DE: ['Lukas', 'Leon', 'Finn', 'Jonas', 'Paul', 'Felix', 'Maximilian', 'Emma', 'Mia', 'Hannah', 'Sophie',
    'Lea', 'Jürgen', 'Jörg', 'Björn', 'Sören', 'Käthe', 'Anja', 'Günter', 'Uwe', 'Jana', 'Lena', 'Marie',
    'Ömer', 'Zoë', 'Thorsten', 'Birgit', 'Dörte', 'Matthias', 'Katrin'],
  FR: ['Gabriel', 'Léo', 'Raphaël', 'Arthur', 'Louis', 'Jules', 'Adam', 'Maël', 'Jade', 'Louise', 'Emma',
    'Alice', 'Chloé', 'Léa', 'Inès', 'Zoé', 'Hélène', 'François', 'Jérôme', 'Amélie', 'Agnès', 'Noémie',
    'Gaëlle', 'Anaïs', 'Jean-Luc', 'Marie-Claire', 'Théo', 'Margaux', 'Benoît', 'Cécile'],
  CA: ['Liam', 'Noah', 'Olivia', 'Emma', 'William', 'Charlotte', 'Benjamin', 'Chloé', 'Félix', 'Gabrielle',
    'Mathéo', 'Élodie', 'Geneviève', 'Jean-François', 'Marie-Ève', 'Stéphane', 'Ava', 'Lucas', 'Amélie',
    'Ethan', 'Harpreet', 'Mei', 'Connor', 'Maëlle', 'Owen'],
  AU: ['Jack', 'Oliver', 'William', 'Noah', 'Charlotte', 'Olivia', 'Amelia', 'Isla', 'Mia', 'Chloe',
    'Lachlan', 'Cooper', 'Matilda', 'Harper', 'Hamish', 'Ruby', 'Angus', 'Zoë', 'Thanh', 'Georgia'],
};

const LAST: Record<Country, readonly string[]> = {
  US: ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'García', 'Miller', 'Davis', 'Rodríguez', 'Martínez',
    'Hernández', 'López', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
    'Lee', 'Pérez', 'Thompson', 'White', 'Harris', 'Sánchez', 'Clark', 'Ramírez', 'Lewis', 'Robinson',
    'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green',
    'Adams', 'Baker', 'Rivera', 'Mitchell', "O'Brien", "O'Connor", "D'Angelo", 'McAllister', 'Kowalski',
    'Nakamura', 'Kim', 'Patel', 'Chen', 'St. John', 'Van der Berg'],
  GB: ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright',
    'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson', 'Clarke',
    "O'Neill", "O'Sullivan", 'MacLeod', 'McGregor', 'Fitzgerald', 'Llewellyn', 'Khan', 'Ahmed', 'Singh',
    'Ní Bhriain', 'Featherstonehaugh', 'Smith-Jones'],
  DE: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann',
    'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann',
    'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Weiß', 'Groß', 'Köhler', 'Jäger', 'von Bülow',
    'Yılmaz', 'Öztürk'],
  FR: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau',
    'Simon', 'Laurent', 'Lefèvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent', 'Fournier',
    'Morel', 'Girard', 'André', 'Mercier', 'Dupont', 'Lambert', 'Bonnet', "D'Arcy", 'Lemaître', 'Béranger',
    "N'Diaye", 'de la Fontaine'],
  CA: ['Tremblay', 'Gagnon', 'Roy', 'Côté', 'Bouchard', 'Gauthier', 'Morin', 'Lavoie', 'Fortin', 'Gagné',
    'Ouellet', 'Pelletier', 'Bélanger', 'Lévesque', 'Bergeron', 'Leblanc', 'Smith', 'Brown', 'Wilson',
    'MacDonald', 'Campbell', "O'Reilly", 'Nguyen', 'Singh', 'Wong', 'Li'],
  AU: ['Smith', 'Jones', 'Williams', 'Brown', 'Wilson', 'Taylor', 'Johnson', 'White', 'Martin', 'Anderson',
    'Thompson', 'Nguyễn', 'Thomas', 'Walker', 'Harris', 'Lee', 'Ryan', 'Robinson', 'Kelly', 'King',
    "O'Sullivan", "O'Connell", 'McKenzie', 'Papadopoulos'],
};

const POSTAL: Record<Country, readonly string[]> = {
  US: ['94103', '94110', '10001', '10027', '11211', '60614', '02134', '02139', '73301', '98101', '98122',
    '30301', '80202', '33101', '78701', '97205', '55401', '19103', '20001', '85004', '48201', '07030'],
  GB: ['SW1A 1AA', 'EC1A 1BB', 'W1A 0AX', 'M1 1AE', 'B33 8TH', 'CR2 6XH', 'LS1 4AP', 'EH1 1YZ', 'BS1 5TR',
    'NE1 7RU', 'G2 1DY', 'CF10 1EP'],
  DE: ['10115', '10243', '10999', '20095', '22767', '80331', '80469', '50667', '60311', '70173', '04109', '01067'],
  FR: ['75001', '75011', '75018', '69001', '69007', '13001', '31000', '33000', '44000', '59000', '67000', '06000'],
  CA: ['M5V 3L9', 'M4C 1B5', 'H2X 1Y4', 'H3B 4W8', 'V6B 1A1', 'V5K 0A1', 'K1P 5J2', 'T2P 1J9', 'T5J 0N3', 'R3C 0V8'],
  AU: ['2000', '2010', '2026', '3000', '3065', '3121', '4000', '4101', '5000', '6000', '0800', '7000'],
};

// ACMA's list of mobile numbers reserved for creative works.
const AU_MOBILES = ['0491 570 006', '0491 570 156', '0491 570 157', '0491 570 158', '0491 570 159',
  '0491 570 110', '0491 570 313', '0491 570 737', '0491 571 266', '0491 571 491', '0491 571 804',
  '0491 572 549', '0491 572 665', '0491 572 983', '0491 573 770', '0491 573 087', '0491 574 118',
  '0491 574 632', '0491 575 254', '0491 575 789', '0491 576 398', '0491 576 801', '0491 577 426',
  '0491 577 644', '0491 578 957', '0491 578 148', '0491 578 888', '0491 579 212', '0491 579 760',
  '0491 579 455'];

const US_AREAS = ['415', '212', '312', '646', '206', '512', '617', '303', '404', '305', '503', '612', '215'];
const CA_AREAS = ['416', '647', '604', '514', '613', '403', '780', '204'];

/** A phone number from a fictional range, formatted the way people type it into checkout forms. */
function phone(country: Country): string {
  const d = (n: number): string => pad(int(0, 10 ** n - 1), n);
  switch (country) {
    case 'US':
    case 'CA': {
      const area = pick(country === 'US' ? US_AREAS : CA_AREAS);
      const line = `01${d(2)}`; // 555-0100..0199: reserved for fiction in every NANP area code
      return choose([
        [`(${area}) 555-${line}`, 30], [`${area}-555-${line}`, 20], [`${area}.555.${line}`, 6],
        [`${area}555${line}`, 12], [`+1 ${area} 555 ${line}`, 10], [`+1 (${area}) 555-${line}`, 6],
        [`1-${area}-555-${line}`, 6], [`+1${area}555${line}`, 6],
        [`555-${line}`, 2], // no area code: too few digits to be a valid number
        [`(${area}) 555-${line} ext. ${int(10, 99)}`, 2],
      ]);
    }
    case 'GB': {
      const [area, local] = chance(0.27)
        ? ['7700', `900${d(3)}`] // mobile
        : pick([['20', `7946 0${d(3)}`], ['161', `496 0${d(3)}`], ['121', `496 0${d(3)}`], ['113', `496 0${d(3)}`]] as const);
      const compact = local.replace(' ', '');
      return choose([
        [`0${area} ${local}`, 35], [`0${area}${compact}`, 12], [`+44 ${area} ${local}`, 25],
        [`+44 (0)${area} ${local}`, 10], [`0044 ${area} ${local}`, 6], [`+44${area}${compact}`, 8],
        [`(0${area}) ${local}`, 4],
      ]);
    }
    case 'DE': {
      const [area, block] = pick([['30', '23125'], ['40', '66969'], ['89', '99998'], ['69', '90009'], ['221', '4710']] as const);
      const ext = d(3);
      return choose([
        [`0${area} ${block}${ext}`, 30], [`0${area}/${block}${ext}`, 15], [`0${area}-${block} ${ext}`, 8],
        [`+49 ${area} ${block}${ext}`, 22], [`+49 (0)${area} ${block} ${ext}`, 8], [`0049 ${area} ${block}${ext}`, 10],
        [`+49${area}${block}${ext}`, 7],
      ]);
    }
    case 'FR': {
      const prefix = pick(['1 99 00', '1 99 00', '2 61 91', '3 53 01', '4 65 71', '5 36 49', '6 39 98', '6 39 98']);
      const rest = `${d(2)} ${d(2)}`;
      const national = `0${prefix} ${rest}`;
      return choose([
        [national, 35], [national.replaceAll(' ', ''), 12], [national.replaceAll(' ', '.'), 12],
        [`+33 ${prefix} ${rest}`, 22], [`+33 (0)${prefix} ${rest}`, 8], [`0033 ${prefix} ${rest}`, 6],
        [`+33${prefix}${rest}`.replaceAll(' ', ''), 5],
      ]);
    }
    case 'AU': {
      if (chance(0.55)) {
        const mobile = pick(AU_MOBILES);
        const intl = mobile.slice(1);
        return choose([[mobile, 50], [`+61 ${intl}`, 25], [mobile.replaceAll(' ', ''), 15], [`+61${intl.replaceAll(' ', '')}`, 10]]);
      }
      const area = pick(['2', '3', '7', '8']);
      const local = `5550 ${d(4)}`;
      return choose([[`(0${area}) ${local}`, 40], [`0${area} ${local}`, 30], [`+61 ${area} ${local}`, 30]]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Customers

interface Customer {
  id: string;
  country: Country;
  first: string;
  last: string;
  email: string | null;
  phone: string | null;
  postal: string;
  countryCode: string | null;
  consent: boolean | null;
  createdAt: number;
  lastActivity: number; // latest order or subscription event, for updated_at
  weight: number; // purchase propensity
}

/** ASCII e-mail local-part material from a name: 'José' -> 'jose', "O'Brien" -> 'obrien', 'Weiß' -> 'weiss'. */
const slug = (s: string): string =>
  s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ß/g, 'ss').replace(/ı/g, 'i')
    .toLowerCase().replace(/[^a-z]/g, '');

const usedEmails = new Set<string>();

function emailFor(first: string, last: string, createdAt: number): string {
  const f = slug(first), l = slug(last);
  const born = new Date(createdAt).getUTCFullYear() - int(22, 60);
  const local = choose([
    [`${f}.${l}`, 30], [`${f}${l}`, 12], [`${f[0]}${l}`, 12], [`${f}_${l}`, 6], [`${f}.${l}${int(1, 99)}`, 12],
    [`${f}${pad(born % 100)}`, 8], [`${l}.${f}`, 6], [`${f}.${l[0]}`, 5], [`${f}-${l}`, 4], [`${f}${born}`, 5],
  ]);
  const domain = choose([['example.com', 60], ['example.org', 20], ['example.net', 20]]);
  let email = `${local}@${domain}`;
  for (let n = 2; usedEmails.has(email); n++) email = `${local}${n}@${domain}`;
  usedEmails.add(email);
  return email;
}

/** What a CRM does to an e-mail address over the years: capitals, padding, invalid values (about 2%). */
function messEmail(email: string): string | null {
  const [local, domain] = email.split('@') as [string, string];
  const cap = (s: string): string => s.replace(/(^|[._-])([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());
  switch (pickWeighted({ clean: 80, capitalized: 7, upper: 1.5, upperDomain: 1.5, padded: 3, padBoth: 1, tab: 0.3,
    nullish: 0.9, placeholder: 0.4, noAt: 0.45, noDomain: 0.15, noTld: 0.1, emptyString: 0.25 })) {
    case 'clean': return email;
    case 'capitalized': return `${cap(local)}@${pick([domain, cap(domain)])}`;
    case 'upper': return email.toUpperCase();
    case 'upperDomain': return `${local}@${domain.toUpperCase()}`;
    case 'padded': return pick([` ${email}`, `${email} `, `  ${email}`]);
    case 'padBoth': return ` ${cap(local)}@${domain} `;
    case 'tab': return `${email}\t`;
    case 'nullish': return null;
    case 'placeholder': return pick(['n/a', 'N/A', 'none', 'no email', '-']);
    case 'noAt': return `${local}.${domain}`;
    case 'noDomain': return `${local}@`;
    case 'noTld': return `${local}@example`;
    case 'emptyString': return '';
  }
}

const messName = (name: string): string =>
  choose([[name, 92], [name.toUpperCase(), 2.5], [name.toLowerCase(), 2.5], [` ${name}`, 1], [`${name} `, 2]]);

function messPostal(postal: string, country: Country): string {
  if (country === 'US') {
    return choose([
      [postal, 78], [`${postal}-${pad(int(1, 9999), 4)}`, 12], [`${postal}${pad(int(1, 9999), 4)}`, 2],
      [postal.replace(/^0+/, ''), postal.startsWith('0') ? 5 : 0], // a spreadsheet ate the leading zero
      [` ${postal}`, 1], [`${postal} `, 2],
    ]);
  }
  if (country === 'GB' || country === 'CA') {
    return choose([[postal, 70], [postal.replace(' ', ''), 14], [postal.toLowerCase(), 10], [postal.toLowerCase().replace(' ', ''), 6]]);
  }
  if (country === 'DE' && chance(0.03)) return `D-${postal}`;
  if (country === 'FR' && chance(0.03)) return `${postal.slice(0, 2)} ${postal.slice(2)}`;
  return chance(0.02) ? `${postal} ` : postal;
}

/** ISO 3166-1 alpha-2 as typed: mostly fine, sometimes lower case, padded, 'UK' for GB, or missing. */
const countryCodeFor = (country: Country): string | null =>
  choose<string | null>([
    [country, 84], [country.toLowerCase(), 8], [country[0] + country[1]!.toLowerCase(), 2], [` ${country}`, 1],
    [`${country} `, 1], ['UK', country === 'GB' ? 12 : 0], [null, country === 'US' ? 6 : 1],
  ]);

const customers: Customer[] = [];
for (let n = 0; n < CUSTOMERS; n++) {
  const country = pickWeighted<Country>({ US: 55, GB: 13, DE: 10, FR: 8, CA: 8, AU: 6 });
  // Accounts accumulate faster as the shop grows: skew sign-ups toward the present.
  const createdAt = CRM_START + Math.floor(Math.sqrt(rand()) * (EXPORT_END - CRM_START - DAY)) + int(0, DAY - 1);
  // ASCII-only sign-up forms of the past: many English-speaking records lost their accents.
  const asTyped = (name: string): string =>
    country !== 'DE' && country !== 'FR' && chance(0.4) ? name.normalize('NFD').replace(/[\u0300-\u036f]/g, '') : name;
  const first = asTyped(pick(FIRST[country]));
  const last = asTyped(pick(LAST[country]));
  // Consent is opt-in and lower in GDPR countries; a few legacy rows never recorded an answer.
  const consentRate = country === 'US' || country === 'CA' || country === 'AU' ? 0.9 : 0.8;
  customers.push({
    id: '', // numbered by sign-up time once every sign-up time is known
    country,
    first: messName(first),
    last: chance(0.006) ? '' : messName(last),
    email: messEmail(emailFor(first, last, createdAt)),
    phone: chance(0.78) ? phone(country) : null,
    postal: messPostal(pick(POSTAL[country]), country),
    countryCode: countryCodeFor(country),
    consent: chance(0.012) ? null : chance(consentRate),
    createdAt,
    lastActivity: createdAt,
    // Most people buy rarely, a few buy all the time; a third never buy in the shop at all.
    weight: chance(0.33) ? 0 : 0.15 + rand() * rand() * rand() * 6,
  });
}

// Households: a second account that shares the first one's e-mail (often typed differently),
// surname, address and sometimes phone. Two members, one identifier at the platform.
const sharedMailboxes: [Customer, Customer][] = []; // households and same-gmail pairs
const withEmail = customers.filter((c) => c.email !== null && c.email.includes('@') && c.email.trim() === c.email);
for (let n = 0; n < 70; n++) {
  const a = pick(withEmail);
  const b = pick(customers);
  if (a === b || b.createdAt < a.createdAt) continue;
  b.country = a.country;
  b.last = a.last;
  b.first = messName(pick(FIRST[a.country]));
  b.postal = a.postal;
  b.countryCode = a.countryCode;
  if (chance(0.5)) b.phone = a.phone;
  const shared = a.email!;
  b.email = choose([[shared, 40], [shared.toUpperCase(), 15], [` ${shared}`, 15], [`${shared} `, 10],
    [shared.replace(/^./, (c) => c.toUpperCase()), 20]]);
  sharedMailboxes.push([a, b]);
}

// A handful of gmail/googlemail addresses, where Google ignores dots and +tags in the local part,
// including three mailboxes that two accounts each reach under different spellings.
const gmailCustomers = customers.filter((c) => c.country === 'US' || c.country === 'GB' || c.country === 'CA');
for (let n = 0; n < 24; n++) {
  const c = pick(gmailCustomers);
  const num = pad(int(1, 999), 4);
  c.email = choose([
    [`demo.user.${num}@gmail.com`, 25], [`demouser${num}@gmail.com`, 10], [`demo.user.${num}+promo@gmail.com`, 15],
    [`Demo.User.${num}@Gmail.com`, 10], [`demo.user.${num}@googlemail.com`, 15], [`d.e.m.o.user${num}+shop@gmail.com`, 10],
    [` demo.user.${num}@GMAIL.COM`, 5], [`demo_user_${num}@gmail.com`, 10],
  ]);
}
for (const num of ['0107', '0242', '0388']) {
  const [a, b] = [pick(gmailCustomers), pick(gmailCustomers)];
  a.email = `demo.user.${num}@gmail.com`;
  b.email = `DemoUser${num}+newsletter@googlemail.com`;
  if (a !== b) sharedMailboxes.push([a, b]);
}

// ---------------------------------------------------------------------------------------------
// Subscriptions: Roast Club, a 14-day free trial, then monthly, quarterly or annual billing.

interface Subscription {
  id: string;
  customer: Customer;
  plan: string;
  trialStartedAt: number;
  trialEndsAt: number;
  convertedAt: number | null;
  cancelledAt: number | null;
  cancelReason: string | null;
}

/** Trials started per day: slow growth after launch, an autumn push, then the Black Friday offer. */
function trialsPerDay(day: number): number {
  const progress = (day - CLUB_LAUNCH) / (AS_OF - CLUB_LAUNCH);
  let rate = 2.5 + 11 * progress * progress;
  if (day >= Date.UTC(2025, 10, 24) && day < Date.UTC(2025, 11, 2)) rate *= 2.5; // Black Friday 2025
  if (day >= Date.UTC(2026, 9, 5)) rate = 9.5; // autumn campaign
  if (day >= Date.UTC(2026, 10, 9)) rate = 14; // pre-holiday push
  if (day >= Date.UTC(2026, 10, 16)) rate = 26; // early Black Friday offer
  if (day >= Date.UTC(2026, 10, 26)) rate = 30; // Thanksgiving to Cyber Monday: "first 2 weeks free"
  return rate;
}

const PAID_CHURN_REASONS = { too_expensive: 34, not_using_enough: 20, missing_feature: 13, switched_competitor: 12,
  delivery_issues: 7, moving: 3, other: 6, NULL: 5 };
const TRIAL_CANCEL_REASONS = { too_expensive: 35, not_using_enough: 25, missing_feature: 10, switched_competitor: 8,
  other: 10, NULL: 12 };
const reason = (weights: Record<string, number>): string | null => {
  const r = pickWeighted(weights);
  return r === 'NULL' ? null : r;
};

const subscriptions: Subscription[] = [];
const openUntil = new Map<Customer, number>(); // a customer with an open subscription cannot start a trial

for (let day = CLUB_LAUNCH; day <= AS_OF; day += DAY) {
  const n = count(trialsPerDay(day));
  for (let k = 0; k < n; k++) {
    const start = day + timeOfDay();
    // Find someone free to start a trial; if they have no account yet, the trial sign-up creates it.
    let customer: Customer | undefined;
    for (let attempt = 0; attempt < 50 && !customer; attempt++) {
      const c = pick(customers);
      const busyUntil = openUntil.get(c);
      if (busyUntil === undefined) customer = c;
      else if (busyUntil < start - 60 * DAY && chance(0.2)) customer = c; // a lapsed member tries again
    }
    if (!customer) continue;
    if (customer.createdAt > start) customer.createdAt = start - int(60, 1800) * 1000;

    const plan = pickWeighted({ monthly: 68, quarterly: 17, annual: 15 });
    const trialEndsAt = start + TRIAL_DAYS * DAY;
    let convertedAt: number | null = null;
    let cancelledAt: number | null = null;
    let cancelReason: string | null = null;
    const outcome = pickWeighted({ convert: 50, cancelDuringTrial: 17, lapse: 33 });
    if (outcome === 'convert') {
      const when = pickWeighted({ early: 20, lastDays: 55, late: 25 });
      convertedAt = when === 'early' ? start + int(2 * 24, 10 * 24) * 3600_000 + int(0, 3599_000)
        : when === 'lastDays' ? trialEndsAt - int(0, 3 * 24) * 3600_000 - int(0, 3599_000)
        : trialEndsAt + int(1, 10 * 24) * 3600_000 + int(0, 3599_000); // came back after a reminder
      // Paid life: before each renewal the member may cancel, most often after the first paid box.
      const [cycle, firstChurn, laterChurn] = plan === 'monthly' ? [30, 0.28, 0.12] : plan === 'quarterly' ? [91, 0.3, 0.2] : [365, 0.35, 0.35];
      for (let renewal = convertedAt + cycle * DAY; renewal < EXPORT_END + 400 * DAY; renewal += cycle * DAY) {
        if (chance(renewal === convertedAt + cycle * DAY ? firstChurn : laterChurn)) {
          cancelledAt = renewal - int(1, cycle - 1) * DAY - int(0, 12 * 3600) * 1000; // some time before it renews
          cancelReason = reason(PAID_CHURN_REASONS);
          break;
        }
      }
    } else if (outcome === 'cancelDuringTrial') {
      cancelledAt = start + int(1 * 24, 13 * 24) * 3600_000 + int(0, 3599_000);
      cancelReason = reason(TRIAL_CANCEL_REASONS);
    }
    // The export only knows what happened by the end of as_of_date.
    if (convertedAt !== null && convertedAt >= EXPORT_END) convertedAt = null;
    if (cancelledAt !== null && cancelledAt >= EXPORT_END) {
      cancelledAt = null;
      cancelReason = null;
    }

    subscriptions.push({ id: '', customer, plan, trialStartedAt: start, trialEndsAt, convertedAt, cancelledAt, cancelReason });
    const end = cancelledAt ?? (convertedAt !== null ? Number.MAX_SAFE_INTEGER : trialEndsAt);
    openUntil.set(customer, end);
    for (const t of [start, convertedAt, cancelledAt]) {
      if (t !== null && t > customer.lastActivity) customer.lastActivity = t;
    }
  }
}
subscriptions.sort((a, b) => a.trialStartedAt - b.trialStartedAt);
subscriptions.forEach((s, i) => (s.id = `S${pad(i + 1, 6)}`));

// ---------------------------------------------------------------------------------------------
// Orders: the last 18 months of the online shop, with weekly rhythm and holiday peaks.

interface Order {
  id: string;
  customer: Customer | null; // null: guest checkout
  orderedAt: number;
  cents: number;
  returned: boolean;
}

function ordersPerDay(day: number): number {
  const weekday = new Date(day).getUTCDay();
  let rate = 11.5 * (weekday === 0 || weekday === 6 ? 1.2 : 1);
  const month = new Date(day).getUTCMonth();
  if (month === 11) rate *= 1.5; // gifting season
  if (month === 10) rate *= 1.25;
  const peaks: [number, number, number][] = [
    [Date.UTC(2025, 10, 27), Date.UTC(2025, 11, 2), 4], // Thanksgiving to Cyber Monday 2025
    [Date.UTC(2026, 10, 26), Date.UTC(2026, 11, 1), 4.5], // Thanksgiving 2026 onward (as_of_date is the Sunday)
    [Date.UTC(2026, 10, 16), Date.UTC(2026, 10, 26), 1.6], // early Black Friday deals
  ];
  for (const [from, to, factor] of peaks) if (day >= from && day < to) rate *= factor;
  return rate;
}

// Cumulative propensity for weighted picks.
const buyers = customers.filter((c) => c.weight > 0);
const cumulative: number[] = [];
let total = 0;
for (const c of buyers) cumulative.push((total += c.weight));
function pickBuyer(): Customer {
  const r = rand() * total;
  let lo = 0, hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > r) hi = mid; else lo = mid + 1;
  }
  return buyers[lo]!;
}

const PRICES = [1450, 1650, 1800, 1950, 2200, 2400, 3400, 5900, 8900]; // bags, bundles, gift boxes (cents)
const orders: Order[] = [];

function placeOrder(customer: Customer | null, orderedAt: number): void {
  let cents = 0;
  const items = choose([[1, 50], [2, 30], [3, 12], [4, 8]]);
  for (let i = 0; i < items; i++) cents += pick(PRICES);
  if (cents < 3500) cents += 495; // shipping under $35
  if (chance(0.3)) cents = Math.round(cents * (1 - pick([0.1, 0.15, 0.2, 0.25]))); // discount code
  // Returns arrive days or weeks later, so the newest orders are rarely marked returned yet.
  const age = (EXPORT_END - orderedAt) / DAY;
  const returned = chance(age > 21 ? 0.07 : age > 7 ? 0.04 : 0.01);
  orders.push({ id: '', customer, orderedAt, cents, returned });
  if (customer && orderedAt > customer.lastActivity) customer.lastActivity = orderedAt;
}
for (let day = SHOP_DATA_START; day <= AS_OF; day += DAY) {
  const n = count(ordersPerDay(day));
  for (let k = 0; k < n; k++) {
    const orderedAt = day + timeOfDay();
    let customer: Customer | null = null;
    if (!chance(0.015)) {
      for (let attempt = 0; attempt < 30 && !customer; attempt++) {
        const c = pickBuyer();
        if (c.createdAt <= orderedAt) customer = c;
      }
      if (!customer) continue;
    }
    placeOrder(customer, orderedAt);
  }
}
// Both halves of a few households (and of the shared gmail mailboxes) shopped the Black Friday sale,
// so two members of one audience share an e-mail: the platform holds it once, for both of them.
for (const [a, b] of [...sharedMailboxes.slice(0, 9), ...sharedMailboxes.slice(-3)]) {
  for (const c of [a, b]) {
    const orderedAt = Math.max(Date.UTC(2026, 10, int(20, 29)) + timeOfDay(), c.createdAt + 3600_000);
    placeOrder(c, Math.min(orderedAt, EXPORT_END - 60_000));
  }
}
orders.sort((a, b) => a.orderedAt - b.orderedAt);
orders.forEach((o, i) => (o.id = `O${pad(i + 100001, 7)}`));

// ---------------------------------------------------------------------------------------------
// CSV output (RFC 4180; a field is quoted when it has a comma, quote, line break or outer space,
// and an empty unquoted field is NULL, while "" is an empty string).

function field(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  if (s === '' || /[",\r\n\t]|^\s|\s$/.test(s)) return `"${s.replaceAll('"', '""')}"`;
  return s;
}

function csv(header: string[], rows: (string | number | boolean | null)[][]): string {
  return [header.join(','), ...rows.map((r) => r.map(field).join(','))].join('\n') + '\n';
}

const money = (cents: number): string => `${Math.floor(cents / 100)}.${pad(cents % 100)}`;

customers.sort((a, b) => a.createdAt - b.createdAt);
customers.forEach((c, i) => (c.id = `C${pad(i + 1, 6)}`));
const customerRows = customers.map((c) => {
  // A profile is edited now and then (address, preferences); activity also touches the record.
  const edited = c.createdAt + Math.floor(rand() * rand() * (EXPORT_END - c.createdAt));
  const updatedAt = Math.min(Math.max(edited, c.lastActivity + int(0, 3600) * 1000), EXPORT_END - 1000);
  return [c.id, c.email, c.phone, c.first, c.last, c.postal, c.countryCode, c.consent, ts(c.createdAt), ts(updatedAt)];
});

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'data');
mkdirSync(out, { recursive: true });
const files: [string, string][] = [
  ['customers.csv', csv(['customer_id', 'email', 'phone', 'first_name', 'last_name', 'postal_code', 'country_code',
    'ads_consent', 'created_at', 'updated_at'], customerRows)],
  ['orders.csv', csv(['order_id', 'customer_id', 'ordered_at', 'amount_usd', 'returned'],
    orders.map((o) => [o.id, o.customer?.id ?? null, ts(o.orderedAt), money(o.cents), o.returned]))],
  ['subscriptions.csv', csv(['subscription_id', 'customer_id', 'plan', 'trial_started_at', 'trial_ends_at',
    'converted_at', 'cancelled_at', 'cancel_reason'], subscriptions.map((s) => [s.id, s.customer.id, s.plan,
    ts(s.trialStartedAt), ts(s.trialEndsAt), s.convertedAt === null ? null : ts(s.convertedAt),
    s.cancelledAt === null ? null : ts(s.cancelledAt), s.cancelReason]))],
];
for (const [name, text] of files) {
  writeFileSync(join(out, name), text);
  console.log(`demo/data/${name}: ${text.split('\n').length - 2} rows, ${Buffer.byteLength(text)} bytes`);
}
