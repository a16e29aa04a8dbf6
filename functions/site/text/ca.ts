/** The residents' site in Catalan (see ./en.ts). */
import type { SiteText } from './en';

export const ca: SiteText = {
  languageName: 'Català',
  skipToContent: 'Ves al contingut',
  nav: {
    label: 'Principal',
    alerts: 'Alertes',
    subscribe: 'Rebre alertes',
    manage: 'Gestionar',
    privacy: 'Les teves dades',
  },
  languageSwitcher: 'Idioma',
  footer: {
    feeds: 'Canals per a mitjans i aplicacions',
    emergency: 'En una emergència truca al 112. Aquest lloc no es vigila a totes hores.',
  },
  alerts: {
    title: 'Alertes en vigor',
    intro: (agency: string) => `Alertes públiques de ${agency} en vigor, de la més recent a la més antiga.`,
    none: 'Ara mateix no hi ha cap alerta en vigor.',
    mapTitle: 'Mapa de les zones de les alertes en vigor',
    listTitle: 'Zones',
    issued: 'Emesa',
    read: "Llegir l'alerta",
    getAlerts: 'Rep alertes com aquestes per SMS o correu electrònic',
    cancelled: 'Anul·lada',
  },
  alert: {
    thread: "Actualitzacions d'aquesta alerta",
    version: (n: number) => `Versió ${n}`,
    issued: 'Emesa',
    mapTitle: "Mapa de la zona de l'alerta",
    notInLanguage: (language: string) =>
      `Aquesta alerta no està disponible en ${language}; es mostra tal com es va redactar.`,
    otherLanguages: 'També en',
    machineReadable: 'Per a aplicacions i mitjans',
    capLink: 'Aquesta alerta en CAP 1.2 (XML)',
  },
  tip: {
    title: 'Enviar un avís',
    intro:
      'Has vist alguna cosa que pugui ajudar? El teu missatge arriba només als agents que treballen en aquesta alerta. No es publica.',
    text: 'El teu missatge',
    contactLegend: 'Contacte (opcional)',
    contactHelp:
      "Només si vols resposta. Els agents no el veuen mai: responen a través d'aquest sistema, i s'esborra amb l'avís.",
    contactChannel: 'Respon-me per',
    none: 'No cal resposta',
    sms: 'SMS',
    email: 'Correu electrònic',
    address: 'Número de mòbil o correu electrònic',
    send: "Enviar l'avís",
    thanksTitle: 'Gràcies',
    thanks: (reference: string) =>
      `El teu avís ha arribat als agents. La seva referència és ${reference}: indica-la si tornes a contactar amb nosaltres.`,
    back: "Tornar a l'alerta",
  },
  subscribe: {
    title: 'Rebre alertes',
    intro:
      'Rep alertes de seguretat pública de les zones que triïs, per SMS o per correu electrònic. És gratuït i pots canviar-ho o donar-te de baixa quan vulguis.',
    how: 'Com les vols rebre?',
    sms: 'Missatge de text (SMS)',
    email: 'Correu electrònic',
    address: 'Número de mòbil o correu electrònic',
    addressHelp: 'Un mòbil amb el prefix de país (+34 …) o una adreça de correu.',
    zones: 'Zones',
    zonesHelp: 'Tria una o més zones. El mapa mostra on són.',
    findZone: 'Troba la meva zona',
    findZoneLocating: 'Cercant la teva ubicació…',
    findZoneFound: 'Triades segons la teva ubicació: {zones}.',
    findZoneNone: 'La teva ubicació no és dins de cap de les nostres zones; tria-les de la llista.',
    findZoneDenied: 'El teu navegador no ha compartit la teva ubicació; tria les teves zones de la llista.',
    findZoneUnavailable: "No s'ha pogut trobar la teva ubicació; tria les teves zones de la llista.",
    findZoneNote:
      "La teva ubicació només s'usa en aquesta pàgina per marcar les caselles; no s'envia ni es desa.",
    language: 'Idioma de les alertes',
    quiet: 'Hores de silenci (opcional)',
    quietHelp:
      'Les alertes que no són urgents esperen al final de les teves hores de silenci. Les urgents (un perill immediat i greu) arriben de seguida.',
    quietFrom: 'Des de',
    quietTo: 'Fins a',
    consentTitle: 'El que acceptes',
    send: 'Envieu-me un codi',
    mapTitle: 'Mapa de les zones',
  },
  code: {
    title: 'Escriu el teu codi',
    sent: (address: string, time: string) =>
      `Si ${address} el pot rebre, t'arriba un codi de 6 xifres. Val fins a les ${time}.`,
    code: 'Codi',
    confirm: 'Confirmar',
    again: "No t'ha arribat? Torna a començar",
  },
  confirmed: {
    title: 'Ja estàs subscrit',
    summary: (zones: string) => `Rebràs alertes de: ${zones}.`,
    quiet: (from: string, to: string) => `Hores de silenci: de ${from} a ${to}.`,
    manage: 'Canvia-ho o dona’t de baixa quan vulguis a la pàgina Gestionar, o respon STOP a qualsevol SMS.',
  },
  manage: {
    title: 'Gestionar la teva subscripció',
    intro: "Escriu el mòbil o el correu amb què et vas subscriure. T'hi enviem un codi.",
    send: 'Envieu-me un codi',
    settingsTitle: 'La teva subscripció',
    subscribedAs: (address: string) => `Les alertes arriben a ${address}.`,
    save: 'Desar els canvis',
    saved: 'Els teus canvis estan desats.',
    endTitle: 'Donar-te de baixa',
    endHelp: 'No rebràs més alertes. Pots tornar-te a subscriure quan vulguis.',
    end: 'Donar-me de baixa',
    ended: "T'has donat de baixa. No rebràs més alertes.",
    expired: 'Per la teva seguretat, aquesta pàgina es tanca als 30 minuts. Demana un codi nou.',
    signOut: 'Tancar',
  },
  privacy: {
    title: 'Què desem i per què',
    intro: (agency: string) =>
      `${agency} manté aquest lloc per avisar els veïns. Aquesta pàgina explica què desa de tu, per què i durant quant de temps.`,
    sections: [
      {
        heading: 'Si et subscrius',
        body: [
          "El teu mòbil o el teu correu, xifrat. Per tornar-lo a trobar desem una empremta amb clau, que no es pot convertir de nou en l'adreça. Els agents només el veuen emmascarat, per exemple +34•••••••78.",
          'Les zones, l’idioma i les hores de silenci que vas triar, i quan i com vas donar el consentiment (la frase de sota, la seva versió, el dia i l’hora).',
          'Un registre de cada canvi (alta, canvi, baixa), sense la teva adreça, perquè un auditor pugui comprovar que ningú no va rebre alertes sense acceptar-ho.',
          "Quan et dones de baixa, la teva adreça deixa d'usar-se per enviar res.",
        ],
      },
      {
        heading: 'Codis',
        body: ['Els codis de 6 xifres que enviem es desen només com a empremta, 15 minuts, amb 5 intents.'],
      },
      {
        heading: 'Si envies un avís',
        body: [
          'El teu missatge i, si el vas donar, el teu contacte, xifrat. Els agents veuen el missatge i un àlies com «Tipster 4F2K», mai el teu número ni la teva adreça.',
        ],
      },
      {
        heading: 'El que no desem',
        body: [
          '«Troba la meva zona» usa la teva ubicació només dins del navegador, per marcar les caselles; mai no se’ns envia.',
          'Aquest lloc no posa cap galeta tret, a la pàgina Gestionar, d’una que manté la sessió 30 minuts.',
          "No desa la teva adreça de xarxa: els límits d'altes i avisos, i el registre del teu consentiment, desen una empremta amb clau, que no es pot convertir de nou en l'adreça.",
        ],
      },
    ],
    elsewhere: {
      nothing: 'No carrega res d’altres empreses.',
      tiles: (host: string) =>
        `Els mapes mostren carrers de ${host}: el teu navegador els hi demana, així que ${host} veu la teva adreça de xarxa i quina zona has mirat.`,
    },
    consentTitle: 'La frase que acceptes en subscriure’t',
  },
  map: { within: (km: number, place: string) => `a menys de ${km} km de ${place}` },
  errors: {
    titlePrefix: 'Error',
    title: 'Revisa el formulari',
    summary: 'Hi ha un problema amb:',
    address: 'Escriu un mòbil amb el prefix de país (+34 …) o una adreça de correu.',
    zones: 'Tria almenys una zona.',
    code: 'Aquest no és el codi que vam enviar.',
    codeTries: (n: number) => (n === 1 ? 'Queda un intent.' : `Queden ${n} intents.`),
    codeGone: 'Aquest codi ha caducat o no li queden intents. Demana’n un de nou.',
    text: 'Escriu un missatge de fins a 2.000 caràcters.',
    quietHours: 'Indica les dues hores amb hores i minuts, per exemple 22:00 i 07:00.',
    language: 'Tria un dels idiomes de la llista.',
    tooMany: "Massa intents des d'aquí en l'última hora. Torna-ho a provar més tard.",
    form: "Aquest formulari ha caducat o no ve d'aquest lloc. Torna-ho a provar.",
    notFoundTitle: 'No trobada',
    notFound: "Aquí no hi ha cap alerta pública. Potser ha acabat o l'adreça està mal escrita.",
    serverTitle: 'Alguna cosa ha fallat',
    server: 'Alguna cosa ha fallat per part nostra. Torna-ho a provar d’aquí a un moment.',
  },
};
