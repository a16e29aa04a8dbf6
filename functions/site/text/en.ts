/**
 * The residents' site in English: every sentence a page says of its own (the alert's text is the officer's,
 * and the marks and labels around it are the renderers', functions/core/render/marks.ts). Each language is one
 * file of this shape, so a missing sentence is a type error, not an English word on a Catalan page.
 */
export const en = {
  languageName: 'English',
  skipToContent: 'Skip to content',
  nav: { label: 'Main', alerts: 'Alerts', subscribe: 'Get alerts', manage: 'Manage', privacy: 'Your data' },
  languageSwitcher: 'Language',
  footer: {
    feeds: 'Feeds for the media and apps',
    emergency: 'In an emergency call 112. This site is not monitored around the clock.',
  },
  alerts: {
    title: 'Current alerts',
    intro: (agency: string) => `Public alerts from ${agency} that are in force now, newest first.`,
    none: 'There are no alerts in force right now.',
    mapTitle: 'Map of the areas of the current alerts',
    listTitle: 'Areas',
    issued: 'Issued',
    read: 'Read the alert',
    getAlerts: 'Get alerts like these by text or email',
    cancelled: 'Cancelled',
  },
  alert: {
    thread: 'Updates to this alert',
    version: (n: number) => `Version ${n}`,
    issued: 'Issued',
    mapTitle: 'Map of the alert area',
    notInLanguage: (language: string) =>
      `This alert is not available in ${language}; it is shown as written.`,
    otherLanguages: 'Also in',
    machineReadable: 'For apps and the media',
    capLink: 'This alert in CAP 1.2 (XML)',
  },
  tip: {
    title: 'Send a tip',
    intro:
      'Seen something that could help? Your message goes to the officers working on this alert only. It is not published.',
    text: 'Your message',
    contactLegend: 'Contact (optional)',
    contactHelp:
      'Only if you want an answer. Officers never see it: they answer through this system, and it is deleted with the tip.',
    contactChannel: 'Answer me by',
    none: 'No answer needed',
    sms: 'Text message',
    email: 'Email',
    address: 'Mobile number or email address',
    send: 'Send the tip',
    thanksTitle: 'Thank you',
    thanks: (reference: string) =>
      `Your tip has reached the officers. Its reference is ${reference}: quote it if you contact us again.`,
    back: 'Back to the alert',
  },
  subscribe: {
    title: 'Get alerts',
    intro:
      'Get public safety alerts for the zones you choose, by text message or email. It is free, and you can change or end it at any time.',
    how: 'How do you want to get them?',
    sms: 'Text message (SMS)',
    email: 'Email',
    address: 'Mobile number or email address',
    addressHelp: 'A mobile number with its country code (+34 …) or an email address.',
    zones: 'Zones',
    zonesHelp: 'Choose one or more zones. The map shows where they are.',
    findZone: 'Find my zone',
    findZoneLocating: 'Finding your location…',
    findZoneFound: 'Chosen from your location: {zones}.',
    findZoneNone: 'Your location is not inside any of our zones; choose them from the list.',
    findZoneDenied: 'Your browser did not share your location; choose your zones from the list.',
    findZoneUnavailable: 'Your location could not be found; choose your zones from the list.',
    findZoneNote: 'Your location is used only on this page, to tick the boxes; it is not sent or kept.',
    language: 'Language of the alerts',
    quiet: 'Quiet hours (optional)',
    quietHelp:
      'Alerts that are not urgent wait until your quiet hours end. Urgent ones (an immediate, severe danger) come at once.',
    quietFrom: 'From',
    quietTo: 'To',
    consentTitle: 'What you agree to',
    send: 'Send me a code',
    mapTitle: 'Map of the zones',
  },
  code: {
    title: 'Enter your code',
    sent: (address: string, time: string) =>
      `If ${address} can receive it, a 6-digit code is on its way. It works until ${time}.`,
    code: 'Code',
    confirm: 'Confirm',
    again: 'Did not get it? Start again',
  },
  confirmed: {
    title: 'You are subscribed',
    summary: (zones: string) => `You will get alerts for: ${zones}.`,
    quiet: (from: string, to: string) => `Quiet hours: ${from} to ${to}.`,
    manage: 'Change or end it at any time on the Manage page, or reply STOP to any text.',
  },
  manage: {
    title: 'Manage your subscription',
    intro: 'Enter the mobile number or email address you subscribed with. We send a code to it.',
    send: 'Send me a code',
    settingsTitle: 'Your subscription',
    subscribedAs: (address: string) => `Alerts go to ${address}.`,
    save: 'Save changes',
    saved: 'Your changes are saved.',
    endTitle: 'End your subscription',
    endHelp: 'You will get no more alerts. You can subscribe again at any time.',
    end: 'End my subscription',
    ended: 'Your subscription has ended. You will get no more alerts.',
    expired: 'For your safety this page closed after 30 minutes. Ask for a new code.',
    signOut: 'Close',
  },
  privacy: {
    title: 'What we keep and why',
    intro: (agency: string) =>
      `${agency} runs this site to warn residents. This page says what it keeps about you, why, and for how long.`,
    sections: [
      {
        heading: 'If you subscribe',
        body: [
          'Your mobile number or email address, encrypted. To find it again we keep a keyed fingerprint of it, which cannot be turned back into the address. Officers only ever see it masked, for example +34•••••••78.',
          'The zones, language and quiet hours you chose, and when and how you agreed (the sentence below, its version, and the day and time).',
          'A record of every change (subscribed, changed, ended), without your address, so that an auditor can check that nobody was sent alerts without agreeing.',
          'When you end your subscription, your address is no longer used to send anything.',
        ],
      },
      {
        heading: 'Codes',
        body: ['The 6-digit codes we send are kept only as a fingerprint, for 15 minutes, with 5 tries.'],
      },
      {
        heading: 'If you send a tip',
        body: [
          'Your message and, if you gave one, your contact, encrypted. Officers see your message and an alias such as "Tipster 4F2K", never your number or address.',
        ],
      },
      {
        heading: 'What we do not keep',
        body: [
          '"Find my zone" uses your location inside your browser only, to tick the boxes; it is never sent to us.',
          'This site sets no cookie except, on the Manage page, one that keeps you signed in for 30 minutes.',
          'It stores no network address of yours: the limits on sign-ups and tips, and the record of your agreement, hold a keyed fingerprint of it, which cannot be turned back into the address.',
        ],
      },
    ],
    /** Said last under the last heading: what the pages load from elsewhere, which depends on the agency's setup. */
    elsewhere: {
      nothing: 'It loads nothing from other companies.',
      tiles: (host: string) =>
        `The maps show streets from ${host}: your browser fetches them from there, so ${host} sees your network address and which area you looked at.`,
    },
    consentTitle: 'The sentence you agree to when you subscribe',
  },
  map: { within: (km: number, place: string) => `within ${km} km of ${place}` },
  errors: {
    /** Before a refused page's title, so a screen reader hears it first. */
    titlePrefix: 'Error',
    title: 'Please check the form',
    summary: 'There is a problem with:',
    address: 'Enter a mobile number with its country code (+34 …) or an email address.',
    zones: 'Choose at least one zone.',
    code: 'That is not the code we sent.',
    codeTries: (n: number) => (n === 1 ? 'One try is left.' : `${n} tries are left.`),
    codeGone: 'This code has expired or has no tries left. Ask for a new one.',
    text: 'Write a message of up to 2,000 characters.',
    quietHours: 'Give both times as hours and minutes, for example 22:00 and 07:00.',
    language: 'Choose one of the languages in the list.',
    tooMany: 'Too many attempts from here in the last hour. Please try again later.',
    form: 'This form has expired or did not come from this site. Please try again.',
    notFoundTitle: 'Not found',
    notFound: 'There is no public alert here. It may have ended, or the address may be mistyped.',
    serverTitle: 'Something went wrong',
    server: 'Something went wrong on our side. Please try again in a moment.',
  },
} as const;

/** The shape every language's file has: the English file's, with any string in place of its strings. */
export type SiteText = Widen<typeof en>;

type Widen<T> = T extends string
  ? string
  : T extends (...args: infer A) => string
    ? (...args: A) => string
    : { [K in keyof T]: Widen<T[K]> };
