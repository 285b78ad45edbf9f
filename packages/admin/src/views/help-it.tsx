/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Help in Italian (issue 19; the rest of the topics in help-it-more.tsx) and the help topic on import and
 * export in both languages. A topic not translated is shown in English (views/help.tsx);
 * `helpTopics(lang)` is what the help pages list.
 */
import type { Lang } from '../i18n/index.js';
import { HELP, type HelpTopic } from './help.js';
import { IT_MORE } from './help-it-more.js';

/** Topics that are new with issue 19 (both languages). */
const EXTRA_EN: Record<string, HelpTopic> = {
  import: {
    title: 'Importing and exporting mailboxes',
    body: (
      <>
        <p>
          Export gives a CSV file of the domain's mailboxes (or aliases) that a spreadsheet opens. To import,
          prepare a CSV file whose first row names its columns: <em>first</em>, <em>last</em>,{' '}
          <em>address</em>, <em>username</em>, <em>group</em>, <em>contact</em>, <em>quota</em> (such as
          500M), <em>expires</em> (2027-06-30), <em>role</em> (for a role address instead of first and last),
          in any order; columns you do not need can be left out.
        </p>
        <p>
          <em>Check the file</em> shows every row with the address it becomes or what is wrong with it;
          nothing changes yet. Then <em>Import</em> adds the correct rows all together. Rows with errors are
          only left out when you chose so on that page; correct the file and check it again to add them.
        </p>
      </>
    ),
  },
};

const EXTRA_IT: Record<string, HelpTopic> = {
  import: {
    title: 'Importare ed esportare caselle',
    body: (
      <>
        <p>
          L’esportazione dà un file CSV delle caselle (o degli alias) del dominio, che un foglio di calcolo
          apre. Per importare, prepara un file CSV la cui prima riga nomina le colonne: <em>first</em> (nome),{' '}
          <em>last</em> (cognome), <em>address</em>, <em>username</em>, <em>group</em>, <em>contact</em>,{' '}
          <em>quota</em> (per esempio 500M), <em>expires</em> (2027-06-30), <em>role</em> (per un indirizzo di
          funzione, al posto di nome e cognome), in qualsiasi ordine; le colonne che non servono si omettono.
        </p>
        <p>
          <em>Controlla il file</em> mostra ogni riga con l’indirizzo che diventerà, o che cosa non va; non
          cambia ancora nulla. Poi <em>Importa</em> aggiunge tutte insieme le righe corrette. Le righe con
          errori vengono tralasciate solo se lo scegli in quella pagina; correggi il file e ricontrollalo per
          aggiungerle.
        </p>
      </>
    ),
  },
};

const IT: Record<string, HelpTopic> = {
  index: {
    title: 'Aiuto',
    body: (
      <>
        <p>
          Qui gestisci la posta elettronica dei domini della tua organizzazione: le persone che hanno una
          casella, gli indirizzi aggiuntivi che portano a loro e gli indirizzi che portano altrove. Non devi
          mai toccare un server: ogni modifica vale entro pochi secondi.
        </p>
        <p>Ogni dominio ha le sue sezioni, nella barra sotto la parte alta della pagina:</p>
        <ul>
          <li>
            <a href="/help/mailboxes">Caselle locali</a>: le persone e le funzioni (helpdesk, segreteria) che
            ricevono la posta qui.
          </li>
          <li>
            <a href="/help/forwards">Caselle remote</a>: indirizzi del dominio la cui casella è su un altro
            server.
          </li>
          <li>
            <a href="/help/aliases">Alias</a>: indirizzi aggiuntivi che consegnano a una o più caselle.
          </li>
          <li>
            <a href="/help/lists">Liste di distribuzione</a>: indirizzi di liste di posta.
          </li>
        </ul>
        <p>
          La lingua delle pagine si sceglie in fondo a ogni pagina (<em>Lingua</em>); per chi ha effettuato
          l’accesso resta memorizzata con il suo account.
        </p>
      </>
    ),
  },
  mailboxes: {
    title: 'Caselle locali',
    body: (
      <>
        <p>
          L’elenco mostra ogni casella del dominio con il suo indirizzo ufficiale e la quota usata. Scrivi
          parte di un nome o di un indirizzo in <em>Cerca</em>, filtra per <em>Gruppo</em> o per stato
          (attive, scadute, rimosse), ordina facendo clic sul titolo di una colonna. Fai clic su un indirizzo
          per vederne gli alias, cambiarne i dettagli, la quota, la password o la scadenza, stampare la scheda
          di configurazione, rimuoverla o ripristinarla.
        </p>
        <p>
          <em>rimossa</em> vuol dire che la casella non funziona più; la sua posta è conservata per un po’,
          poi cancellata, e fino ad allora si può ripristinare. <em>scaduta</em> vuol dire che la data di
          scadenza è passata: non riceve posta e non accede finché non le dai una data successiva.
        </p>
        <p>
          Per aggiungerne una usa <a href="/help/new-mailbox">Aggiungi un utente</a>; per molte insieme,{' '}
          <a href="/help/import">l’importazione da CSV</a>.
        </p>
      </>
    ),
  },
  mailbox: {
    title: 'Una casella',
    body: (
      <>
        <p>
          La pagina mostra l’<strong>indirizzo ufficiale</strong> (quello da comunicare) e gli{' '}
          <strong>alias</strong> che consegnano anch’essi a questa casella. Un alias <em>ambiguo</em> è
          condiviso con un’altra persona e non consegna a nessuna delle due.
        </p>
        <p>
          <em>Modifica i dettagli</em>: un nome nuovo dà un nuovo indirizzo ufficiale e quello vecchio resta
          come alias. <em>Quota</em>: lo spazio massimo (500M, 2G); la posta che la supererebbe viene
          rifiutata, e al 90 % l’utente riceve un avviso. <em>Imposta la password</em>: comunica la nuova a
          voce o per telefono. <em>Rimuovi la casella…</em> chiede conferma dicendo che cosa si perde; una
          casella rimossa si può ripristinare finché la sua posta è conservata.
        </p>
        <p>
          La <a href="/help/setup-sheet">scheda di configurazione</a> è una pagina da stampare per l’utente.
        </p>
      </>
    ),
  },
  'new-mailbox': {
    title: 'Aggiungere un utente',
    body: (
      <>
        <p>
          Per un indirizzo <strong>personale</strong> scrivi nome e cognome: l’indirizzo ufficiale viene
          creato come <em>nome.cognome@dominio</em>, con due alias, <em>n.cognome@</em> e <em>cognome@</em>.
          Accenti e altri alfabeti diventano lettere semplici (Nicolò diventa nicolo).
        </p>
        <p>
          Per un indirizzo di <strong>funzione</strong> (helpdesk, segreteria, info) scegli <em>Role</em> e
          scrivi la parte prima della @ in <em>E-mail</em>.
        </p>
        <p>
          <em>Password</em>: lasciala vuota per farne inventare una, mostrata una volta sola sulla scheda di
          configurazione che appare subito dopo. Una password non può contenere il nome, il cognome o
          l’indirizzo della persona, né essere una delle password più comuni; se viene rifiutata, il motivo è
          scritto accanto al campo.
        </p>
      </>
    ),
  },
  audit: {
    title: 'Registro delle modifiche',
    body: (
      <p>
        Ogni modifica è registrata e detta a parole: quando, chi, da quale indirizzo di rete e che cosa («Rose
        Pinkcheeks aggiunto da iat-admin»); così ogni accesso, accesso non riuscito, pausa dopo troppi errori
        e uscita. Filtra per tipo, per chi e per indirizzo o testo; <em>Dettagli</em> mostra che cosa è stato
        registrato. Gli amministratori di dominio vedono le modifiche dei loro domini in <em>Modifiche</em>.
      </p>
    ),
  },
  'my-account': {
    title: 'Il mio account',
    body: (
      <>
        <p>
          Qui cambi la tua password: scrivi quella attuale e la nuova. Negli altri posti in cui avevi
          effettuato l’accesso vieni disconnesso.
        </p>
        <p>
          Gli utenti delle caselle trovano qui anche le impostazioni per il loro programma di posta. Gli
          amministratori possono attivare l’<a href="/help/two-step">accesso in due passaggi</a>.
        </p>
      </>
    ),
  },
};

/** The help topics in a language: every topic, translated where a translation exists. */
export function helpTopics(lang: Lang): Record<string, HelpTopic> {
  const en = { ...HELP, ...EXTRA_EN };
  if (lang !== 'it') return en;
  return Object.fromEntries(
    Object.keys(en).map((k) => [k, IT[k] ?? IT_MORE[k] ?? EXTRA_IT[k] ?? (en[k] as HelpTopic)]),
  );
}
