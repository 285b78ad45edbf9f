/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Help in Italian, the rest of the topics (issue 19): signing in, two-step sign-in, the set-up sheet, the
 * address sections, the attachment gateway and the operators' pages. help-it.tsx merges them.
 */
import type { HelpTopic } from './help.js';

export const IT_MORE: Record<string, HelpTopic> = {
  'signing-in': {
    title: 'Accedere',
    body: (
      <>
        <p>
          Gli <strong>amministratori</strong> accedono con il nome utente ricevuto dagli operatori. Gli{' '}
          <strong>utenti delle caselle</strong> accedono con il proprio indirizzo e-mail e la password della
          posta, per cambiare la password o consultare le impostazioni del programma di posta.
        </p>
        <p>
          Dopo diverse password errate l’accesso viene sospeso per qualche minuto, per l’account e per la rete
          da cui si è tentato. Attendere e riprovare. Chi ha dimenticato la password si rivolge al proprio
          amministratore (gli amministratori agli operatori).
        </p>
        <p>
          La sessione si chiude dopo 30 minuti di inattività, e comunque dopo 12 ore. Sui computer condivisi
          usare <em>Esci</em>.
        </p>
        <p>
          Gli operatori possono consentire un account di amministratore solo da determinate reti, o solo da un
          browser che presenta un certificato da loro rilasciato. Altrove l’accesso non riesce, come se la
          password fosse errata. Ogni accesso e ogni uscita vengono registrati con l’indirizzo di rete di
          provenienza.
        </p>
      </>
    ),
  },
  'two-step': {
    title: 'Accesso in due passaggi',
    body: (
      <>
        <p>
          L’accesso in due passaggi protegge l’account di amministratore anche se qualcuno viene a conoscenza
          della password: all’accesso viene chiesto anche un codice di 6 cifre generato da un’app di
          autenticazione sul telefono. Il codice cambia ogni 30 secondi.
        </p>
        <p>
          Per attivarlo, aprire <a href="/me/totp">Impostazioni dell’accesso in due passaggi</a> in{' '}
          <em>Il mio account</em>, inserire nell’app la chiave indicata e digitare il codice che l’app mostra.
          In caso di smarrimento del telefono, chiedere agli operatori di azzerarlo.
        </p>
      </>
    ),
  },
  'setup-sheet': {
    title: 'Il foglio di configurazione',
    body: (
      <>
        <p>
          Il foglio di configurazione riporta ciò che serve a un programma di posta: l’indirizzo, il nome
          utente, i server e le porte per la posta in arrivo (IMAP o POP3) e in uscita (SMTP), con brevi
          istruzioni per Thunderbird, Outlook, Apple Mail e i telefoni. Si stampa con il comando Stampa del
          browser e sta in una pagina A4. La password non viene mai stampata: la si può scrivere a mano.
        </p>
        <p>
          I nomi dei server contengono il vostro dominio (imap.vostrodominio, smtp.vostrodominio), quindi gli
          utenti non devono mai cambiare le impostazioni quando il servizio viene spostato.
        </p>
      </>
    ),
  },
  forwards: {
    title: 'Indirizzi per caselle remote',
    body: (
      <p>
        Un indirizzo del vostro dominio la cui casella di posta si trova su un altro server: la posta viene
        inoltrata all’indirizzo remoto. Così le persone possono passare a questo servizio una alla volta:
        finché qualcuno non è passato, il suo indirizzo qui inoltra alla vecchia casella. Al momento del
        passaggio, rimuovere l’inoltro e aggiungere la sua casella.
      </p>
    ),
  },
  aliases: {
    title: 'Alias',
    body: (
      <>
        <p>
          Un alias è un indirizzo aggiuntivo. La posta indirizzata a esso va a tutti i suoi destinatari:
          caselle del vostro dominio (basta la parte prima della @) o indirizzi completi altrove. Aggiungendo
          un alias già esistente se ne aggiungono i destinatari.
        </p>
        <p>
          Gli alias <em>creati dal nome</em> nascono con ogni casella personale. Gli alias{' '}
          <em>ex indirizzo ufficiale</em> mantengono funzionanti i vecchi indirizzi dopo un cambio di nome. Un
          alias <strong>ambiguo</strong> è condiviso da più persone: la posta indirizzata a esso viene
          restituita al mittente con gli indirizzi ufficiali dei candidati.
        </p>
      </>
    ),
  },
  lists: {
    title: 'Liste di distribuzione',
    body: (
      <>
        <p>
          Una <strong>lista di posta</strong> è gestita qui: un indirizzo del vostro dominio, un responsabile
          (una casella del vostro dominio), chi può scrivere (solo i membri, chiunque del dominio, chiunque, o
          i mittenti elencati) e i membri, che ricevono una copia di ogni messaggio. Un mittente non
          autorizzato viene rifiutato subito, dal suo stesso server di posta. In una lista{' '}
          <strong>moderata</strong> ogni messaggio resta in attesa finché il responsabile non lo approva,
          nella propria pagina dopo l’accesso con l’indirizzo della sua casella, oppure rispondendo all’avviso
          che riceve; i messaggi su cui nessuno decide vengono scartati dopo alcuni giorni e i mittenti ne
          sono informati.
        </p>
        <p>
          Un alias di lista di distribuzione è un indirizzo del vostro dominio per una lista di posta gestita
          da un server di liste. La posta indirizzata a esso passa all’indirizzo della lista sul server di
          liste, che la invia ai membri.
        </p>
      </>
    ),
  },
  gateway: {
    title: 'Gateway degli allegati',
    body: (
      <>
        <p>
          Alcuni programmi di posta, su connessioni lente o a consumo, non riescono a scaricare un messaggio
          che contiene una scansione o una foto di grandi dimensioni. Per le caselle registrate qui, il server
          toglie gli allegati di grandi dimensioni dalla posta in arrivo, li conserva e al loro posto
          inserisce una breve nota con il nome del file, la dimensione e un collegamento per scaricarlo. Il
          resto del messaggio rimane invariato.
        </p>
        <p>
          Si può registrare una casella, tutte le caselle del dominio o un mittente (un indirizzo come
          scans@library.example, o un intero dominio come library.example): in tal caso viene modificata solo
          la posta di quel mittente. Le <em>regole</em> stabiliscono quali allegati vengono tolti (più grandi
          della soglia e dei tipi indicati: <code>application/pdf</code>, <code>image/*</code>; vuoto
          significa tutti), per quanti giorni funzionano i collegamenti e se per scaricare serve la password
          della casella del destinatario. Alla scadenza i file vengono eliminati; lo spazio su disco che
          occupano è indicato nella pagina.
        </p>
        <p>
          I collegamenti sono indirizzi lunghi e casuali, impossibili da indovinare; uno scaricamento
          interrotto può essere ripreso. Un messaggio con la struttura danneggiata viene consegnato senza
          modifiche.
        </p>
      </>
    ),
  },
  domains: {
    title: 'Domini (operatori)',
    body: (
      <>
        <p>
          Aggiungere un dominio ospitato e sceglierne la regione: la sua posta è conservata lì. Ogni dominio
          riceve una casella postmaster@. Poi aggiungere un amministratore di dominio in{' '}
          <em>Amministratori</em>.
        </p>
        <p>
          Per rimuovere un dominio che ha ancora caselle occorre spuntare la casella di conferma: le sue
          caselle di posta, i suoi alias e la sua posta vengono rimossi con esso.
        </p>
      </>
    ),
  },
  admins: {
    title: 'Amministratori (operatori)',
    body: (
      <>
        <p>
          Gli operatori gestiscono tutto. Gli amministratori di dominio gestiscono solo i domini loro
          assegnati e non vedono gli altri. La rimozione di un amministratore ne chiude subito la sessione.
          L’ultimo operatore non può essere rimosso.
        </p>
        <p>
          Fare clic sul nome di un amministratore per limitare i luoghi da cui può accedere.{' '}
          <em>Reti consentite</em>: indirizzi o intervalli come <code>192.0.2.0/24</code>, uno per riga
          (vuoto: ovunque). <em>Impronta del certificato client</em>: l’impronta SHA-256 di un certificato che
          il suo browser deve presentare (vuoto: nessuno). Le restrizioni valgono subito, anche per le
          sessioni già aperte.
        </p>
      </>
    ),
  },
  regions: {
    title: 'Regioni (operatori)',
    body: (
      <p>
        Ogni regione esegue un’appliance; la posta di un dominio è conservata nella sua regione di
        appartenenza.
      </p>
    ),
  },
};
