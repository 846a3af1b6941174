// The admin hub's strings (src/routes/admin/AdminHome.tsx, src/components/AdminFrame.tsx).
export const en = {
  title: "Settings",
  subtitle: "People, channels, routing and everything else that shapes how your team works.",
  none: "There is nothing here you can change.",
};

export const ptBR: typeof en = {
  title: "Configurações",
  subtitle: "Pessoas, canais, roteamento e tudo o que molda como sua equipe trabalha.",
  none: "Não há nada aqui que você possa alterar.",
};
