/** The residents' site in Spanish (see ./en.ts). */
import type { SiteText } from './en';

export const es: SiteText = {
  languageName: 'Español',
  skipToContent: 'Ir al contenido',
  nav: {
    label: 'Principal',
    alerts: 'Alertas',
    subscribe: 'Recibir alertas',
    manage: 'Gestionar',
    privacy: 'Tus datos',
  },
  languageSwitcher: 'Idioma',
  footer: {
    feeds: 'Canales para medios y aplicaciones',
    emergency: 'En una emergencia llama al 112. Este sitio no se vigila a todas horas.',
  },
  alerts: {
    title: 'Alertas en vigor',
    intro: (agency: string) => `Alertas públicas de ${agency} en vigor, de la más reciente a la más antigua.`,
    none: 'Ahora mismo no hay ninguna alerta en vigor.',
    mapTitle: 'Mapa de las zonas de las alertas en vigor',
    listTitle: 'Zonas',
    issued: 'Emitida',
    read: 'Leer la alerta',
    getAlerts: 'Recibe alertas como estas por SMS o correo electrónico',
    cancelled: 'Cancelada',
  },
  alert: {
    thread: 'Actualizaciones de esta alerta',
    version: (n: number) => `Versión ${n}`,
    issued: 'Emitida',
    mapTitle: 'Mapa de la zona de la alerta',
    notInLanguage: (language: string) =>
      `Esta alerta no está disponible en ${language}; se muestra tal como se redactó.`,
    otherLanguages: 'También en',
    machineReadable: 'Para aplicaciones y medios',
    capLink: 'Esta alerta en CAP 1.2 (XML)',
  },
  tip: {
    title: 'Enviar un aviso',
    intro:
      '¿Has visto algo que pueda ayudar? Tu mensaje llega solo a los agentes que trabajan en esta alerta. No se publica.',
    text: 'Tu mensaje',
    contactLegend: 'Contacto (opcional)',
    contactHelp:
      'Solo si quieres respuesta. Los agentes nunca lo ven: responden a través de este sistema, y se borra con el aviso.',
    contactChannel: 'Respóndeme por',
    none: 'No hace falta respuesta',
    sms: 'SMS',
    email: 'Correo electrónico',
    address: 'Número de móvil o correo electrónico',
    send: 'Enviar el aviso',
    thanksTitle: 'Gracias',
    thanks: (reference: string) =>
      `Tu aviso ha llegado a los agentes. Su referencia es ${reference}: indícala si vuelves a contactar con nosotros.`,
    back: 'Volver a la alerta',
  },
  subscribe: {
    title: 'Recibir alertas',
    intro:
      'Recibe alertas de seguridad pública de las zonas que elijas, por SMS o por correo electrónico. Es gratis y puedes cambiarlo o darte de baja cuando quieras.',
    how: '¿Cómo quieres recibirlas?',
    sms: 'Mensaje de texto (SMS)',
    email: 'Correo electrónico',
    address: 'Número de móvil o correo electrónico',
    addressHelp: 'Un móvil con su prefijo de país (+34 …) o una dirección de correo.',
    zones: 'Zonas',
    zonesHelp: 'Elige una o más zonas. El mapa muestra dónde están.',
    findZone: 'Buscar mi zona',
    findZoneLocating: 'Buscando tu ubicación…',
    findZoneFound: 'Elegidas según tu ubicación: {zones}.',
    findZoneNone: 'Tu ubicación no está en ninguna de nuestras zonas; elígelas de la lista.',
    findZoneDenied: 'Tu navegador no ha compartido tu ubicación; elige tus zonas de la lista.',
    findZoneUnavailable: 'No se ha podido encontrar tu ubicación; elige tus zonas de la lista.',
    findZoneNote:
      'Tu ubicación solo se usa en esta página para marcar las casillas; no se envía ni se guarda.',
    language: 'Idioma de las alertas',
    quiet: 'Horas de silencio (opcional)',
    quietHelp:
      'Las alertas que no son urgentes esperan al final de tus horas de silencio. Las urgentes (un peligro inmediato y grave) llegan enseguida.',
    quietFrom: 'Desde',
    quietTo: 'Hasta',
    consentTitle: 'Lo que aceptas',
    send: 'Enviadme un código',
    mapTitle: 'Mapa de las zonas',
  },
  code: {
    title: 'Escribe tu código',
    sent: (address: string, time: string) =>
      `Si ${address} puede recibirlo, te llega un código de 6 cifras. Vale hasta las ${time}.`,
    code: 'Código',
    confirm: 'Confirmar',
    again: '¿No te ha llegado? Empieza de nuevo',
  },
  confirmed: {
    title: 'Ya estás suscrito',
    summary: (zones: string) => `Recibirás alertas de: ${zones}.`,
    quiet: (from: string, to: string) => `Horas de silencio: de ${from} a ${to}.`,
    manage: 'Cámbialo o date de baja cuando quieras en la página Gestionar, o responde STOP a cualquier SMS.',
  },
  manage: {
    title: 'Gestionar tu suscripción',
    intro: 'Escribe el móvil o el correo con el que te suscribiste. Te enviamos un código.',
    send: 'Enviadme un código',
    settingsTitle: 'Tu suscripción',
    subscribedAs: (address: string) => `Las alertas llegan a ${address}.`,
    save: 'Guardar los cambios',
    saved: 'Tus cambios están guardados.',
    endTitle: 'Darte de baja',
    endHelp: 'No recibirás más alertas. Puedes volver a suscribirte cuando quieras.',
    end: 'Darme de baja',
    ended: 'Te has dado de baja. No recibirás más alertas.',
    expired: 'Por tu seguridad, esta página se cierra a los 30 minutos. Pide un código nuevo.',
    signOut: 'Cerrar',
  },
  privacy: {
    title: 'Qué guardamos y por qué',
    intro: (agency: string) =>
      `${agency} mantiene este sitio para avisar a los vecinos. Esta página explica qué guarda de ti, por qué y durante cuánto tiempo.`,
    sections: [
      {
        heading: 'Si te suscribes',
        body: [
          'Tu móvil o tu correo, cifrado. Para volver a encontrarlo guardamos una huella con clave, que no se puede convertir de nuevo en la dirección. Los agentes solo lo ven enmascarado, por ejemplo +34•••••••78.',
          'Las zonas, el idioma y las horas de silencio que elegiste, y cuándo y cómo diste tu consentimiento (la frase de abajo, su versión, el día y la hora).',
          'Un registro de cada cambio (alta, cambio, baja), sin tu dirección, para que un auditor pueda comprobar que nadie recibió alertas sin aceptarlo.',
          'Cuando te das de baja, tu dirección deja de usarse para enviar nada.',
        ],
      },
      {
        heading: 'Códigos',
        body: [
          'Los códigos de 6 cifras que enviamos se guardan solo como huella, 15 minutos, con 5 intentos.',
        ],
      },
      {
        heading: 'Si envías un aviso',
        body: [
          'Tu mensaje y, si lo diste, tu contacto, cifrado. Los agentes ven tu mensaje y un alias como «Tipster 4F2K», nunca tu número ni tu dirección.',
        ],
      },
      {
        heading: 'Lo que no guardamos',
        body: [
          '«Buscar mi zona» usa tu ubicación solo dentro de tu navegador, para marcar las casillas; nunca se nos envía.',
          'Este sitio no pone ninguna cookie salvo, en la página Gestionar, una que mantiene tu sesión 30 minutos.',
          'No guarda tu dirección de red: los límites de altas y avisos, y el registro de tu consentimiento, guardan una huella con clave, que no se puede convertir de nuevo en la dirección.',
        ],
      },
    ],
    elsewhere: {
      nothing: 'No carga nada de otras empresas.',
      tiles: (host: string) =>
        `Los mapas muestran calles de ${host}: tu navegador las pide allí, así que ${host} ve tu dirección de red y qué zona miraste.`,
    },
    consentTitle: 'La frase que aceptas al suscribirte',
  },
  map: { within: (km: number, place: string) => `a menos de ${km} km de ${place}` },
  errors: {
    titlePrefix: 'Error',
    title: 'Revisa el formulario',
    summary: 'Hay un problema con:',
    address: 'Escribe un móvil con su prefijo de país (+34 …) o una dirección de correo.',
    zones: 'Elige al menos una zona.',
    code: 'Ese no es el código que enviamos.',
    codeTries: (n: number) => (n === 1 ? 'Queda un intento.' : `Quedan ${n} intentos.`),
    codeGone: 'Este código ha caducado o no le quedan intentos. Pide uno nuevo.',
    text: 'Escribe un mensaje de hasta 2.000 caracteres.',
    quietHours: 'Indica las dos horas con horas y minutos, por ejemplo 22:00 y 07:00.',
    language: 'Elige uno de los idiomas de la lista.',
    tooMany: 'Demasiados intentos desde aquí en la última hora. Vuelve a probar más tarde.',
    form: 'Este formulario ha caducado o no viene de este sitio. Vuelve a intentarlo.',
    notFoundTitle: 'No encontrada',
    notFound:
      'Aquí no hay ninguna alerta pública. Puede que haya terminado o que la dirección esté mal escrita.',
    serverTitle: 'Algo ha fallado',
    server: 'Algo ha fallado por nuestra parte. Vuelve a probar en un momento.',
  },
};
